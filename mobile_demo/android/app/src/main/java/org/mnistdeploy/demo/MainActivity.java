package org.mnistdeploy.demo;

import android.app.Activity;
import android.graphics.Insets;
import android.os.Build;
import android.os.Bundle;
import android.view.View;
import android.view.WindowInsets;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.Spinner;
import android.widget.TextView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.mnistdeploy.demo.core.LoadedArtifact;
import org.mnistdeploy.demo.core.Manifest;
import org.mnistdeploy.demo.core.Preprocess;
import org.mnistdeploy.demo.core.Softmax;

/**
 * One screen: draw a digit, see the class, its probabilities and the latency; switch artifacts.
 * At start every embedded artifact is verified on the embedded test vectors. Started with the
 * extra mode=bench it benchmarks every artifact, writes benchmark_results.json (Results), logs one
 * JSON line (tag MnistDemo) and finishes. The models and their thread live in Models, which a
 * configuration change hands to the next instance of this activity.
 */
public class MainActivity extends Activity {
    static final String TAG = "MnistDemo";
    private static final int PAD_PX = 24;

    private Models models;
    private Models.Session session;  // UI thread only; null until loading is complete
    private TextView status, predicted, probabilities, latency;
    private Spinner switcher;
    private DrawView pad;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        buildUi();
        models = (Models) getLastNonConfigurationInstance();
        if (models == null) {  // the first instance; a recreated one takes over what is running
            boolean bench = "bench".equals(getIntent().getStringExtra("mode"));
            models = new Models(getApplicationContext(), bench, getIntent().getIntExtra("warmup", 100),
                    getIntent().getIntExtra("iterations", 1000));
            models.start();
        }
        models.attach(this);
    }

    @Override
    public Object onRetainNonConfigurationInstance() {
        return models;
    }

    @Override
    protected void onDestroy() {
        models.detach(this);
        if (!isChangingConfigurations()) models.close();
        super.onDestroy();
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

    /** On the UI thread: the complete session, each artifact's verification (or its one-line error). */
    void show(Models.Session s) {
        session = s;
        StringBuilder text = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (LoadedArtifact l : s.loaded) {
            text.append(l.artifact.name).append(": ").append(l.ok() ? describe(l) : "FAILED " + l.error).append('\n');
            if (l.ok()) names.add(l.artifact.name);
        }
        status.setText(text.length() == 0 ? "No runnable artifact embedded: run `python -m export --embed`" : text.toString().trim());
        switcher.setAdapter(new ArrayAdapter<>(this, android.R.layout.simple_spinner_dropdown_item, names));
        switcher.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            @Override public void onItemSelected(AdapterView<?> p, View v, int pos, long id) { predict(); }
            @Override public void onNothingSelected(AdapterView<?> p) {}
        });
    }

    void showError(String reason) {
        status.setText("Error: " + reason);
    }

    private static String describe(LoadedArtifact l) {
        return String.format(Locale.US, "%s; load %.1f ms, first call %.2f ms", l.verification, l.loadMs, l.firstMs);
    }

    private LoadedArtifact current() {
        Object name = switcher.getSelectedItem();
        if (session == null) return null;
        for (LoadedArtifact l : session.loaded) if (l.ok() && l.artifact.name.equals(name)) return l;
        return null;
    }

    /** Read the drawing on the UI thread, preprocess and run on the worker, show on the UI thread. */
    private void predict() {
        LoadedArtifact l = current();
        if (l == null || !pad.isReady()) return;
        Manifest manifest = session.manifest;
        int[] gray = pad.gray();
        int w = pad.width(), h = pad.height();
        models.execute(() -> {
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
                runOnUiThread(() -> { predicted.setText(cls); probabilities.setText(bars); latency.setText(lat); });
            } catch (Exception e) {
                runOnUiThread(() -> { predicted.setText("!"); latency.setText(e.getMessage()); });
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
}
