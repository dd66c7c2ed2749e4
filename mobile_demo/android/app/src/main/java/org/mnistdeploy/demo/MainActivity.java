package org.mnistdeploy.demo;

import android.app.Activity;
import android.graphics.Insets;
import android.os.Build;
import android.os.Bundle;
import android.os.Handler;
import android.os.Looper;
import android.util.Log;
import android.view.View;
import android.view.WindowInsets;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.Spinner;
import android.widget.TextView;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.json.JSONException;
import org.json.JSONObject;
import org.mnistdeploy.demo.core.Benchmark;
import org.mnistdeploy.demo.core.Manifest;
import org.mnistdeploy.demo.core.ModelRunner;
import org.mnistdeploy.demo.core.Preprocess;
import org.mnistdeploy.demo.core.Sha256;
import org.mnistdeploy.demo.core.Softmax;
import org.mnistdeploy.demo.core.TestVectors;
import org.mnistdeploy.demo.core.Verifier;

/**
 * One screen: draw a digit, see the class, its probabilities and the latency; switch artifacts.
 * At start every embedded artifact is verified on the embedded test vectors. Started with the
 * extra mode=bench it benchmarks every artifact, writes files/benchmark_results.json, logs one
 * JSON line (tag MnistDemo) and finishes. All model work runs on one background thread; what it
 * loads reaches the UI thread whole, in one post.
 */
public class MainActivity extends Activity {
    static final String TAG = "MnistDemo";
    private static final int PAD_PX = 24;

    /** An artifact loaded once: its runner, load time and verification result. */
    private static final class Loaded {
        final Manifest.Artifact artifact;
        ModelRunner runner;
        double loadMs;
        Verifier.Result verification;
        String error;

        Loaded(Manifest.Artifact artifact) { this.artifact = artifact; }
    }

    /** Everything the worker loads at start; immutable once built, then handed to the UI thread. */
    private static final class Session {
        final Manifest manifest;
        final TestVectors vectors;
        final List<Loaded> loaded;

        Session(Manifest manifest, TestVectors vectors, List<Loaded> loaded) {
            this.manifest = manifest;
            this.vectors = vectors;
            this.loaded = Collections.unmodifiableList(loaded);
        }
    }

    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Handler ui = new Handler(Looper.getMainLooper());
    private Session session;  // UI thread only; null until loading is complete
    private TextView status, predicted, probabilities, latency;
    private Spinner switcher;
    private DrawView pad;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        buildUi();
        boolean bench = "bench".equals(getIntent().getStringExtra("mode"));
        int warmup = getIntent().getIntExtra("warmup", 100);
        int iterations = getIntent().getIntExtra("iterations", 1000);
        worker.execute(() -> start(bench, warmup, iterations));  // execute: nothing hides in an unread Future
    }

    private void start(boolean bench, int warmup, int iterations) {
        try {
            Session s = loadAndVerify();
            ui.post(() -> show(s));
            if (bench) {
                Log.i(TAG, "benchmark started");
                JSONObject doc = benchmark(s, warmup, iterations);
                writeResults(doc);
                Log.i(TAG, "results written");
                Log.i(TAG, doc.toString());  // one JSON line, for `adb logcat -s MnistDemo`
            }
        } catch (Throwable t) {  // Errors too (a native library that did not load): report, never hang
            Log.e(TAG, "start failed", t);
            String reason = t.getClass().getSimpleName() + ": " + t.getMessage();
            ui.post(() -> status.setText("Error: " + reason));
            if (bench) writeFailure(reason, warmup, iterations);
        } finally {
            if (bench) ui.post(this::finish);
        }
    }

    private void buildUi() {
        LinearLayout root = new LinearLayout(this);
        root.setOrientation(LinearLayout.VERTICAL);
        root.setPadding(PAD_PX, PAD_PX, PAD_PX, PAD_PX);
        keepOutOfSystemBars(root);
        status = new TextView(this);
        status.setText("Loading and verifying the embedded artifacts…");
        switcher = new Spinner(this);
        pad = new DrawView(this);
        pad.setOnStroke(this::predict);
        Button clear = new Button(this);
        clear.setText("Clear");
        clear.setOnClickListener(v -> { pad.clear(); predicted.setText("–"); });
        predicted = new TextView(this);
        predicted.setTextSize(48);
        probabilities = new TextView(this);
        probabilities.setTypeface(android.graphics.Typeface.MONOSPACE);
        latency = new TextView(this);
        root.addView(status);
        root.addView(switcher);
        int side = getResources().getDisplayMetrics().widthPixels - 2 * PAD_PX;
        root.addView(pad, new LinearLayout.LayoutParams(side, side));
        root.addView(clear);
        root.addView(predicted);
        root.addView(latency);
        root.addView(probabilities);
        setContentView(root);
    }

    /** targetSdk 35 draws the app edge to edge on Android 15+: pad the content by the bars' insets. */
    private static void keepOutOfSystemBars(View root) {
        root.setOnApplyWindowInsetsListener((v, insets) -> {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {  // older releases keep content out of the bars
                Insets bars = insets.getInsets(WindowInsets.Type.systemBars() | WindowInsets.Type.displayCutout());
                v.setPadding(PAD_PX + bars.left, PAD_PX + bars.top, PAD_PX + bars.right, PAD_PX + bars.bottom);
            }
            return insets;
        });
    }

    /** Copy an asset to filesDir (once) and check it against the manifest's sha256 before use. */
    private File asset(String name, String sha256) throws IOException {
        File f = new File(getFilesDir(), name);
        if (f.exists() && sha256.equals(hashOf(f))) return f;
        File tmp = new File(getFilesDir(), name + ".tmp");
        try (InputStream in = getAssets().open(name); OutputStream out = new FileOutputStream(tmp)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
        }
        if (!sha256.equals(hashOf(tmp))) {
            Files.delete(tmp.toPath());
            throw new IOException(name + " does not match the manifest's sha256: re-run `python -m export --embed`");
        }
        if (!tmp.renameTo(f)) throw new IOException("cannot rename " + tmp + " to " + f);
        return f;
    }

    /** InputStream.readAllBytes needs API 33; this runs on minSdk 26. */
    private static String readText(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) b.write(buf, 0, n);
        return b.toString("UTF-8");
    }

    private static String hashOf(File f) throws IOException {
        try (InputStream in = new FileInputStream(f)) {
            return Sha256.of(in);
        }
    }

    private Session loadAndVerify() throws IOException {
        Manifest manifest;
        try (InputStream in = getAssets().open("manifest.json")) {
            manifest = Manifest.parse(readText(in));
        }
        File tvFile = asset(manifest.testVectorsPath, manifest.testVectorsSha256);
        TestVectors tv = TestVectors.parse(new String(Files.readAllBytes(tvFile.toPath()), StandardCharsets.UTF_8));
        List<Loaded> loaded = new ArrayList<>();
        for (Manifest.Artifact a : manifest.runnable(ModelRunner.FORMATS)) {
            Loaded l = new Loaded(a);
            try {
                String path = asset(a.path, a.sha256).getAbsolutePath();
                long t0 = System.nanoTime();
                l.runner = a.format.equals("executorch") ? new ExecuTorchRunner(path, manifest.executorchExporter)
                        : new OnnxRunner(path, manifest.inputName, manifest.inputShape(1));
                l.loadMs = (System.nanoTime() - t0) / 1e6;
                Log.i(TAG, "opened " + a.name);
                l.verification = Verifier.verify(l.runner, manifest, tv, !a.quantization.equals("none"));
            } catch (Exception | LinkageError e) {  // LinkageError: the runtime's native library did not load
                l.error = e.getClass().getSimpleName() + ": " + e.getMessage();
                Log.e(TAG, a.name + " failed", e);
            }
            loaded.add(l);
        }
        return new Session(manifest, tv, loaded);
    }

    /** On the UI thread: publish the complete session and show each artifact's verification. */
    private void show(Session s) {
        session = s;
        StringBuilder text = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (Loaded l : s.loaded) {
            text.append(l.artifact.name).append(": ")
                .append(l.error != null ? "FAILED " + l.error : l.verification.toString()).append('\n');
            if (l.error == null) names.add(l.artifact.name);
        }
        status.setText(text.length() == 0 ? "No runnable artifact embedded: run `python -m export --embed`" : text.toString().trim());
        switcher.setAdapter(new ArrayAdapter<>(this, android.R.layout.simple_spinner_dropdown_item, names));
        switcher.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            @Override public void onItemSelected(AdapterView<?> p, View v, int pos, long id) { predict(); }
            @Override public void onNothingSelected(AdapterView<?> p) {}
        });
    }

    private Loaded current() {
        Object name = switcher.getSelectedItem();
        if (session == null) return null;
        for (Loaded l : session.loaded) if (l.error == null && l.artifact.name.equals(name)) return l;
        return null;
    }

    /** Read the drawing on the UI thread, preprocess and run on the worker, show on the UI thread. */
    private void predict() {
        Loaded l = current();
        if (l == null || !pad.isReady()) return;
        Manifest manifest = session.manifest;
        int[] gray = pad.gray();
        int w = pad.width(), h = pad.height();
        worker.execute(() -> {
            try {
                long t0 = System.nanoTime();
                float[] input = Preprocess.toInput(gray, w, h, manifest.height, manifest.normalization);
                long t1 = System.nanoTime();
                float[] logits = l.runner.run(input, manifest.inputShape(1));
                long t2 = System.nanoTime();
                String bars = bars(manifest.classes, Softmax.probabilities(logits));
                String cls = manifest.classes.get(Softmax.argmax(logits));
                String lat = String.format(Locale.US, "inference %.0f µs, preprocessing %.0f µs (%s)",
                        (t2 - t1) / 1e3, (t1 - t0) / 1e3, l.runner.runtime());
                ui.post(() -> { predicted.setText(cls); probabilities.setText(bars); latency.setText(lat); });
            } catch (Exception e) {
                ui.post(() -> { predicted.setText("!"); latency.setText(e.getMessage()); });
            }
        });
    }

    private static String bars(List<String> classes, double[] p) {
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < p.length; k++) {
            out.append(String.format(Locale.US, "%s %5.1f%% ", classes.get(k), 100 * p[k]));
            for (int j = 0; j < Math.round(20 * p[k]); j++) out.append('#');  // String.repeat: API 33
            out.append('\n');
        }
        return out.toString();
    }

    private JSONObject benchmark(Session s, int warmup, int iterations) throws Exception {
        List<JSONObject> rows = new ArrayList<>();
        for (Loaded l : s.loaded) {
            if (l.error != null) { rows.add(Benchmark.failedRow(l.artifact, l.error)); continue; }
            Benchmark.Timing t = Benchmark.time(l.runner, s.vectors.input(0), s.manifest.inputShape(1), warmup, iterations);
            rows.add(Benchmark.okRow(l.artifact, l.runner.runtime(), l.loadMs, t, l.verification));
        }
        return Benchmark.document("android", nowUtc(), device(), warmup, iterations, 1, rows);
    }

    /** Bench mode could not start: write a failed document at once, so the host reports the reason. */
    private void writeFailure(String reason, int warmup, int iterations) {
        try {
            writeResults(Benchmark.failedDocument("android", nowUtc(), device(), warmup, iterations, 1, reason));
        } catch (IOException | JSONException | RuntimeException e) {
            Log.e(TAG, "could not write the failure to " + Benchmark.RESULTS_NAME, e);
        }
    }

    private static JSONObject device() throws JSONException {
        JSONObject device = new JSONObject();
        device.put("model", Build.MANUFACTURER + " " + Build.MODEL);
        device.put("soc", Build.VERSION.SDK_INT >= Build.VERSION_CODES.S ? Build.SOC_MANUFACTURER + " " + Build.SOC_MODEL : "unknown");
        device.put("os", "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ")");
        device.put("abi", Build.SUPPORTED_ABIS[0]);
        device.put("runtime", "executorch-android " + ExecuTorchRunner.VERSION + " / onnxruntime-android");
        return device;
    }

    private static String nowUtc() {
        SimpleDateFormat utc = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.US);
        utc.setTimeZone(TimeZone.getTimeZone("UTC"));
        return utc.format(new Date());
    }

    /** Temp file, then rename: the host never pulls half a file. */
    private void writeResults(JSONObject doc) throws IOException {
        File tmp = new File(getFilesDir(), Benchmark.RESULTS_NAME + ".tmp");
        Files.write(tmp.toPath(), doc.toString().getBytes(StandardCharsets.UTF_8));
        if (!tmp.renameTo(new File(getFilesDir(), Benchmark.RESULTS_NAME))) {
            throw new IOException("cannot write " + Benchmark.RESULTS_NAME);
        }
    }

    @Override
    protected void onDestroy() {
        Session s = session;
        worker.execute(() -> {
            if (s != null) for (Loaded l : s.loaded) if (l.runner != null) { l.runner.close(); Log.i(TAG, "closed " + l.artifact.name); }
            Log.i(TAG, "worker stopped");
        });
        worker.shutdown();
        super.onDestroy();
    }
}
