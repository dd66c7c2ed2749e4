package org.mnistdeploy.demo.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latency method every target shares (docs/manifest.md): load time measured by the caller, the
 * first inference on its own, then warm-up runs, then timed iterations one at a time with
 * System.nanoTime(), batch 1. Builds benchmark_results.json in the device-results schema.
 */
public final class Benchmark {
    public static final String CLOCK = "System.nanoTime()";

    public static final class Timing {
        public final double firstMs;
        public final LatencyStats stats;

        Timing(double firstMs, LatencyStats stats) {
            this.firstMs = firstMs;
            this.stats = stats;
        }
    }

    private Benchmark() {}

    public static Timing time(ModelRunner r, float[] input, long[] shape, int warmup, int iterations)
            throws Exception {
        if (warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("need warmup >= 0 and iterations >= 1, got " + warmup + ", " + iterations);
        }
        long t0 = System.nanoTime();
        r.run(input, shape);
        double firstMs = (System.nanoTime() - t0) / 1e6;
        for (int k = 0; k < warmup; k++) r.run(input, shape);
        double[] us = new double[iterations];
        for (int k = 0; k < iterations; k++) {
            long s = System.nanoTime();
            r.run(input, shape);
            us[k] = (System.nanoTime() - s) / 1e3;
        }
        return new Timing(firstMs, new LatencyStats(us));
    }

    /** One results row for an artifact that ran; runtime names the library that ran it. */
    public static Map<String, Object> okRow(Manifest.Artifact a, String runtime, double loadMs, Timing t,
                                            Verifier.Result v) {
        Map<String, Object> row = baseRow(a, "ok", null);
        row.put("runtime", runtime);
        row.put("load_ms", loadMs);
        row.put("first_ms", t.firstMs);
        row.putAll(t.stats.toJson());
        row.put("verification", v.toJson());
        return row;
    }

    /** A row for an artifact that failed to load or run: its status and error, not a crash. */
    public static Map<String, Object> failedRow(Manifest.Artifact a, String reason) {
        return baseRow(a, "failed", reason);
    }

    private static Map<String, Object> baseRow(Manifest.Artifact a, String status, String reason) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("artifact", a.name);
        row.put("sha256", a.sha256);
        row.put("status", status);
        row.put("reason", reason);
        return row;
    }

    public static Map<String, Object> document(String target, String createdUtc, Map<String, Object> device,
                                               int warmup, int iterations, int threads,
                                               List<Map<String, Object>> rows) {
        Map<String, Object> method = new LinkedHashMap<>();
        method.put("warmup", warmup);
        method.put("iterations", iterations);
        method.put("batch", 1);
        method.put("threads", threads);
        method.put("clock", CLOCK);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("target", target);
        doc.put("created_utc", createdUtc);
        doc.put("device", device);
        doc.put("method", method);
        doc.put("results", new ArrayList<Object>(rows));
        return doc;
    }
}
