package org.mnistdeploy.demo;

import android.content.Context;
import android.os.Build;
import android.os.Handler;
import android.os.Looper;
import android.util.Log;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
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
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.json.JSONException;
import org.json.JSONObject;
import org.mnistdeploy.demo.core.Benchmark;
import org.mnistdeploy.demo.core.LoadedArtifact;
import org.mnistdeploy.demo.core.Manifest;
import org.mnistdeploy.demo.core.ModelRunner;
import org.mnistdeploy.demo.core.Sha256;
import org.mnistdeploy.demo.core.TestVectors;

/**
 * The embedded artifacts, loaded once, the one thread that runs them, and bench mode. It outlives a
 * configuration change (dark mode, locale, a fold, multi-window): MainActivity hands it to its next
 * instance, so a recreate neither loads again nor starts a second benchmark. close() (the activity
 * going away for good) closes every runner it opened, including one opened while loading was still
 * under way, and stops loading at the next artifact. What the worker produces reaches the attached
 * activity whole, on the UI thread, and is replayed to the next instance.
 */
final class Models {
    static final String TAG = MainActivity.TAG;

    /** Everything loaded at start; immutable once built. */
    static final class Session {
        final Manifest manifest;
        final TestVectors vectors;
        final List<LoadedArtifact> loaded;

        Session(Manifest manifest, TestVectors vectors, List<LoadedArtifact> loaded) {
            this.manifest = manifest;
            this.vectors = vectors;
            this.loaded = Collections.unmodifiableList(loaded);
        }
    }

    private final Context app;  // the application's context: this object outlives activities
    private final boolean bench;
    private final int warmup, iterations;
    private final ExecutorService worker = Executors.newSingleThreadExecutor();
    private final Handler ui = new Handler(Looper.getMainLooper());
    private final List<ModelRunner> opened = new ArrayList<>();  // guarded by this
    private final List<String> openedNames = new ArrayList<>();  // guarded by this
    private boolean closed;                                     // guarded by this
    // UI thread only: the attached activity and what it must show (replayed on attach)
    private MainActivity attached;
    private Session session;
    private String error;
    private boolean done;

    Models(Context app, boolean bench, int warmup, int iterations) {
        this.app = app;
        this.bench = bench;
        this.warmup = warmup;
        this.iterations = iterations;
    }

    /** Start loading (and benchmarking, in bench mode); called once, by the first activity. */
    void start() {
        if (bench) Results.clear(app);  // here, before `am start -W` returns: the host never reads an old file
        worker.execute(this::work);     // execute: nothing hides in an unread Future
    }

    void attach(MainActivity activity) {
        attached = activity;
        if (session != null) activity.show(session);
        if (error != null) activity.showError(error);
        if (done) activity.finish();
    }

    void detach(MainActivity activity) {
        if (attached == activity) attached = null;
    }

    /** Run work on the model thread; nothing runs once closed. */
    void execute(Runnable work) {
        try {
            worker.execute(work);
        } catch (RejectedExecutionException closing) {
            // the activity is going away: a prediction for it has no screen to go to
        }
    }

    /** Post to the UI thread: remember, then show on the attached activity (if any). */
    private void post(Runnable remember, Consumer<MainActivity> show) {
        ui.post(() -> {
            remember.run();
            if (attached != null) show.accept(attached);
        });
    }

    private void work() {
        try {
            Session s = load();
            post(() -> session = s, a -> a.show(s));
            if (bench) {
                Log.i(TAG, "benchmark started");
                JSONObject doc = benchmark(s);
                Log.i(TAG, "results written to " + Results.write(app, doc));
                Log.i(TAG, doc.toString());  // one JSON line, for `adb logcat -s MnistDemo`
            }
        } catch (CancellationException closing) {
            Log.i(TAG, "stopped: " + closing.getMessage());
        } catch (Throwable t) {  // Errors too (a native library that did not load): report, never hang
            Log.e(TAG, "start failed", t);
            String reason = t instanceof IOException || t instanceof IllegalArgumentException
                    ? t.getMessage() : t.getClass().getSimpleName() + ": " + t.getMessage();
            String line = String.valueOf(reason).replaceAll("\\s+", " ").trim();
            post(() -> error = line, a -> a.showError(line));
            if (bench) Results.writeFailure(app, line, warmup, iterations);
        } finally {
            if (bench) post(() -> done = true, MainActivity::finish);
        }
    }

    private Session load() throws IOException {
        Manifest manifest;
        try (InputStream in = openAsset("manifest.json")) {
            manifest = Manifest.parse(readText(in));
        }
        File tvFile = asset(manifest.testVectorsPath, manifest.testVectorsSha256);
        TestVectors tv = TestVectors.parse(new String(Files.readAllBytes(tvFile.toPath()), StandardCharsets.UTF_8));
        List<LoadedArtifact> loaded = new ArrayList<>();
        for (Manifest.Artifact a : manifest.runnable(ModelRunner.FORMATS)) {
            if (isClosed()) throw new CancellationException("closed while loading");
            String path;
            try {
                path = asset(a.path, a.sha256).getAbsolutePath();
            } catch (IOException e) {
                loaded.add(LoadedArtifact.failed(a, e.getMessage()));
                continue;
            }
            LoadedArtifact l = LoadedArtifact.load(a, () -> register(a.name, open(a, path, manifest)), manifest, tv);
            if (!l.ok()) Log.e(TAG, a.name + " failed: " + l.error);
            loaded.add(l);
        }
        return new Session(manifest, tv, loaded);
    }

    private static ModelRunner open(Manifest.Artifact a, String path, Manifest m) {
        return a.format.equals("executorch") ? new ExecuTorchRunner(path, m.executorchExporter)
                : new OnnxRunner(path, m.inputName, m.inputShape(1));
    }

    /** Publish a runner the moment it exists, so close() closes it however far loading got. */
    private synchronized ModelRunner register(String name, ModelRunner runner) {
        if (closed) {
            runner.close();
            throw new CancellationException("closed while loading " + name);
        }
        opened.add(runner);
        openedNames.add(name);
        Log.i(TAG, "opened " + name);
        return runner;
    }

    private synchronized boolean isClosed() { return closed; }

    /** The activity is going away for good: stop at the next artifact, then close every runner. */
    void close() {
        synchronized (this) {
            closed = true;
        }
        worker.execute(this::closeAll);  // after the current task: no runner is closed while it runs
        worker.shutdown();
    }

    private void closeAll() {
        List<ModelRunner> runners;
        List<String> names;
        synchronized (this) {
            runners = new ArrayList<>(opened);
            names = new ArrayList<>(openedNames);
            opened.clear();
            openedNames.clear();
        }
        for (int k = 0; k < runners.size(); k++) {
            runners.get(k).close();
            Log.i(TAG, "closed " + names.get(k));
        }
        Log.i(TAG, "worker stopped");
    }

    private JSONObject benchmark(Session s) throws Exception {
        List<JSONObject> rows = new ArrayList<>();
        for (LoadedArtifact l : s.loaded) {
            if (isClosed()) throw new CancellationException("closed during the benchmark");
            if (!l.ok()) {
                rows.add(Benchmark.failedRow(l.artifact, l.error));
                continue;
            }
            try {  // a call that fails mid-benchmark fails its row, not the run
                rows.add(Benchmark.okRow(l, Benchmark.time(l.runner, s.vectors.input(0), s.manifest.inputShape(1), warmup, iterations)));
            } catch (Exception e) {
                rows.add(Benchmark.failedRow(l.artifact, e.getClass().getSimpleName() + ": "
                        + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").trim()));
            }
        }
        return Benchmark.document("android", nowUtc(), device(), warmup, iterations, 1, rows);
    }

    static JSONObject device() throws JSONException {
        JSONObject device = new JSONObject();
        device.put("model", Build.MANUFACTURER + " " + Build.MODEL);
        device.put("soc", Build.VERSION.SDK_INT >= Build.VERSION_CODES.S ? Build.SOC_MANUFACTURER + " " + Build.SOC_MODEL : "unknown");
        device.put("os", "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ")");
        device.put("abi", Build.SUPPORTED_ABIS[0]);
        device.put("runtime", "executorch-android " + ExecuTorchRunner.VERSION + " / onnxruntime-android");
        return device;
    }

    static String nowUtc() {
        SimpleDateFormat utc = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.US);
        utc.setTimeZone(TimeZone.getTimeZone("UTC"));
        return utc.format(new Date());
    }

    private InputStream openAsset(String name) throws IOException {
        try {
            return app.getAssets().open(name);
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(name + " is missing from the app's assets: run `python -m export --embed` "
                    + "and rebuild the app");
        }
    }

    /** Copy an asset to filesDir (once) and check it against the manifest's sha256 before use. */
    private File asset(String name, String sha256) throws IOException {
        File f = new File(app.getFilesDir(), name);
        if (f.exists() && sha256.equals(hashOf(f))) return f;
        File tmp = new File(app.getFilesDir(), name + ".tmp");
        try (InputStream in = openAsset(name); OutputStream out = new FileOutputStream(tmp)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
        }
        if (!sha256.equals(hashOf(tmp))) {
            Files.delete(tmp.toPath());
            throw new IOException(name + " does not match the manifest's sha256: re-run `python -m export --embed` "
                    + "and rebuild the app");
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
}
