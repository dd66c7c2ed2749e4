package org.mnistdeploy.demo.core;

import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The latency method every target shares (docs/performance.md): load time and the first inference
 * on the fresh load (LoadedArtifact), then warm-up runs, then timed iterations one at a time with
 * System.nanoTime(), batch 1. Builds benchmark_results.json in the device-results schema.
 */
public final class Benchmark {
    public static final String CLOCK = "System.nanoTime()";
    /** The results file in the app's external files folder; runtime/android.py pulls it by this name (RESULTS_NAME). */
    public static final String RESULTS_NAME = "benchmark_results.json";

    private Benchmark() {}

    /** Warm-up runs, then timed iterations one at a time; the first call was timed at load (LoadedArtifact). */
    public static LatencyStats time(ModelRunner r, float[] input, long[] shape, int warmup, int iterations)
            throws Exception {
        if (warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("need warmup >= 0 and iterations >= 1, got " + warmup + ", " + iterations);
        }
        for (int k = 0; k < warmup; k++) r.run(input, shape);
        double[] us = new double[iterations];
        for (int k = 0; k < iterations; k++) {
            long s = System.nanoTime();
            r.run(input, shape);
            us[k] = (System.nanoTime() - s) / 1e3;
        }
        return new LatencyStats(us);
    }

    /** One results row for an artifact that ran: its load, first call and verification, then `stats`. */
    public static JSONObject okRow(LoadedArtifact l, LatencyStats stats) throws JSONException {
        JSONObject row = baseRow(l.artifact, "ok", null);
        row.put("runtime", l.runner.runtime());
        row.put("load_ms", l.loadMs);
        row.put("first_ms", l.firstMs);
        stats.addTo(row);
        row.put("verification", l.verification.toJson());
        return row;
    }

    /** A row for an artifact that failed to load or run: its status and error, not a crash. */
    public static JSONObject failedRow(Manifest.Artifact a, String reason) throws JSONException {
        return baseRow(a, "failed", reason);
    }

    private static JSONObject baseRow(Manifest.Artifact a, String status, String reason) throws JSONException {
        JSONObject row = new JSONObject();
        row.put("artifact", a.name);
        row.put("sha256", a.sha256);
        row.put("status", status);
        row.put("reason", reason == null ? JSONObject.NULL : reason);  // put(k, null) would drop the key
        return row;
    }

    /** The results of a run that measured its artifacts (each row ok or failed on its own). */
    public static JSONObject document(String target, String createdUtc, JSONObject device, int warmup,
                                      int iterations, int threads, List<JSONObject> rows) throws JSONException {
        JSONObject doc = header(target, createdUtc, device, warmup, iterations, threads, "ok", null);
        JSONArray results = new JSONArray();
        for (JSONObject r : rows) results.put(r);
        doc.put("results", results);
        return doc;
    }

    /**
     * The results of a run that could not start (no manifest, a native library that did not load):
     * written at once, so the host command reports the reason instead of waiting out its timeout.
     */
    public static JSONObject failedDocument(String target, String createdUtc, JSONObject device, int warmup,
                                            int iterations, int threads, String reason) throws JSONException {
        JSONObject doc = header(target, createdUtc, device, warmup, iterations, threads, "failed", reason);
        doc.put("results", new JSONArray());
        return doc;
    }

    private static JSONObject header(String target, String createdUtc, JSONObject device, int warmup,
                                     int iterations, int threads, String status, String reason)
            throws JSONException {
        JSONObject method = new JSONObject();
        method.put("warmup", warmup);
        method.put("iterations", iterations);
        method.put("batch", 1);
        method.put("threads", threads);
        method.put("clock", CLOCK);
        JSONObject doc = new JSONObject();
        doc.put("target", target);
        doc.put("created_utc", createdUtc);
        doc.put("status", status);
        doc.put("reason", reason == null ? JSONObject.NULL : reason);
        doc.put("device", device);
        doc.put("method", method);
        return doc;
    }
}
