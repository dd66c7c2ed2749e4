package org.mnistdeploy.demo;

import android.content.Context;
import android.util.Log;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.json.JSONException;
import org.json.JSONObject;
import org.mnistdeploy.demo.core.Benchmark;

/**
 * benchmark_results.json where the host can read it from any build: the app-specific external files
 * folder (/sdcard/Android/data/org.mnistdeploy.demo/files/), which `adb pull` reads without
 * run-as, so a release (non-debuggable) build can be measured. Without external storage it goes to
 * filesDir, which the host reads with run-as (debuggable builds only). Temp file, then rename: the
 * host never reads half a file.
 */
final class Results {
    private Results() {}

    static File folder(Context c) {
        File external = c.getExternalFilesDir(null);
        return external != null ? external : c.getFilesDir();
    }

    /** Remove an earlier run's results, wherever they are. */
    static void clear(Context c) {
        for (File dir : new File[] {c.getExternalFilesDir(null), c.getFilesDir()}) {
            if (dir != null && new File(dir, Benchmark.RESULTS_NAME).delete()) Log.i(Models.TAG, "removed old results in " + dir);
        }
    }

    static File write(Context c, JSONObject doc) throws IOException {
        File dir = folder(c);
        File tmp = new File(dir, Benchmark.RESULTS_NAME + ".tmp");
        File done = new File(dir, Benchmark.RESULTS_NAME);
        Files.write(tmp.toPath(), doc.toString().getBytes(StandardCharsets.UTF_8));
        if (!tmp.renameTo(done)) throw new IOException("cannot rename " + tmp + " to " + done);
        return done;
    }

    /** Bench mode could not start: a failed document at once, so the host reports the reason. */
    static void writeFailure(Context c, String reason, int warmup, int iterations) {
        try {
            JSONObject doc = Benchmark.failedDocument("android", Models.nowUtc(), Models.device(), warmup, iterations, 1, reason);
            Log.i(Models.TAG, "results written to " + write(c, doc));
        } catch (IOException | JSONException | RuntimeException e) {
            Log.e(Models.TAG, "could not write the failure to " + Benchmark.RESULTS_NAME, e);
        }
    }
}
