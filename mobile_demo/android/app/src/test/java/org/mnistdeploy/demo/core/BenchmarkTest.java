package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.util.List;
import java.util.Map;
import org.junit.Test;

public class BenchmarkTest {
    /** A real (tiny) linear classifier: logits = W x, so timing measures actual arithmetic. */
    private static final class Linear implements ModelRunner {
        int calls;
        public float[] run(float[] x, long[] shape) {
            calls++;
            float[] out = new float[10];
            for (int c = 0; c < 10; c++) for (int k = 0; k < x.length; k++) out[c] += x[k] * ((k + c) % 7 - 3);
            return out;
        }
        public String runtime() { return "java"; }
        public void close() {}
    }

    @Test
    public void firstWarmupAndTimedRunsAreSeparate() throws Exception {
        Linear r = new Linear();
        Benchmark.Timing t = Benchmark.time(r, new float[784], new long[] {1, 1, 28, 28}, 5, 20);
        assertEquals(1 + 5 + 20, r.calls);
        assertEquals(20, t.stats.count);
        assertTrue(t.firstMs >= 0 && t.stats.p50 > 0 && t.stats.p50 <= t.stats.p90);
        assertThrows(IllegalArgumentException.class, () -> Benchmark.time(r, new float[1], new long[] {1}, 0, 0));
    }

    @Test
    public void documentFollowsTheDeviceResultsSchema() throws Exception {
        Manifest m = Manifest.parse(Fixtures.manifest());
        Manifest.Artifact a = m.artifacts.get(0);
        Benchmark.Timing t = Benchmark.time(new Linear(), new float[784], m.inputShape(1), 1, 3);
        TestVectors tv = TestVectors.parse(Fixtures.vectors());
        Map<String, Object> row = Benchmark.okRow(a, "java", 12.5, t, Verifier.compare(tv.expectedLogits, tv, false));
        Map<String, Object> doc = Benchmark.document("android", "2026-11-25T18:00:00Z", Map.of("model", "x"),
                1, 3, 1, List.of(row, Benchmark.failedRow(m.artifacts.get(1), "load failed: boom")));
        Map<String, Object> back = Json.obj(Json.parse(Json.write(doc)), "doc");
        assertEquals("android", back.get("target"));
        Map<String, Object> method = Json.obj(back.get("method"), "method");
        assertEquals(3.0, method.get("iterations"));
        assertEquals("System.nanoTime()", method.get("clock"));
        List<Object> rows = Json.list(back.get("results"), "results");
        Map<String, Object> ok = Json.obj(rows.get(0), "row");
        for (String k : new String[] {"artifact", "sha256", "status", "load_ms", "first_ms", "p50_us", "p90_us",
                "p99_us", "mean_us", "trimmed_mean_us", "verification"}) {
            assertTrue("row lacks " + k, ok.containsKey(k));
        }
        assertEquals("cd", ok.get("sha256"));
        assertEquals("failed", Json.obj(rows.get(1), "row").get("status"));
    }
}
