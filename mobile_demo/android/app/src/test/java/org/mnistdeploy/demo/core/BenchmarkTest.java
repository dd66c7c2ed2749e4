package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
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
    public void warmupAndTimedRunsAreSeparate() throws Exception {
        Linear r = new Linear();
        LatencyStats t = Benchmark.time(r, new float[784], new long[] {1, 1, 28, 28}, 5, 20);
        assertEquals(5 + 20, r.calls);
        assertEquals(20, t.count);
        assertTrue(t.p50 > 0 && t.p50 <= t.p90);
        assertThrows(IllegalArgumentException.class, () -> Benchmark.time(r, new float[1], new long[] {1}, 0, 0));
    }

    /** Returns the test vectors' reference logits ([1, 0]): an artifact that verifies. */
    private static final class Reference implements ModelRunner {
        public float[] run(float[] x, long[] shape) { return new float[] {1f, 0f}; }
        public String runtime() { return "reference"; }
        public void close() {}
    }

    @Test
    public void documentFollowsTheDeviceResultsSchema() throws Exception {
        Manifest m = Manifest.parse(Fixtures.manifest());
        Manifest.Artifact a = m.artifacts.get(0);
        TestVectors tv = TestVectors.parse(Fixtures.vectors(2));
        LoadedArtifact l = LoadedArtifact.load(a, Reference::new, m, tv);
        JSONObject row = Benchmark.okRow(l, Benchmark.time(l.runner, tv.input(0), m.inputShape(1), 1, 3));
        JSONObject doc = Benchmark.document("android", "2026-11-25T18:00:00Z", new JSONObject().put("model", "x"),
                1, 3, 1, List.of(row, Benchmark.failedRow(m.artifacts.get(1), "load failed: boom")));
        JSONObject back = new JSONObject(doc.toString());
        assertEquals("android", back.getString("target"));
        assertEquals("ok", back.getString("status"));
        JSONObject method = back.getJSONObject("method");
        assertEquals(3, method.getInt("iterations"));
        assertEquals("System.nanoTime()", method.getString("clock"));
        JSONArray rows = back.getJSONArray("results");
        JSONObject ok = rows.getJSONObject(0);
        assertEquals("reference", ok.getString("runtime"));
        for (String k : new String[] {"artifact", "sha256", "status", "reason", "load_ms", "first_ms", "p50_us",
                "p90_us", "p99_us", "mean_us", "trimmed_mean_us", "verification"}) {
            assertTrue("row lacks " + k, ok.has(k));
        }
        assertTrue("an ok row's reason is null, present", ok.isNull("reason"));
        assertEquals("cd", ok.getString("sha256"));
        assertEquals("failed", rows.getJSONObject(1).getString("status"));
        assertEquals("load failed: boom", rows.getJSONObject(1).getString("reason"));
    }

    @Test
    public void aRunThatCouldNotStartSaysWhy() throws Exception {
        JSONObject doc = new JSONObject(Benchmark.failedDocument("android", "2026-11-25T18:00:00Z",
                new JSONObject().put("model", "x"), 1, 3, 1, "UnsatisfiedLinkError: no executorch").toString());
        assertEquals("failed", doc.getString("status"));
        assertEquals("UnsatisfiedLinkError: no executorch", doc.getString("reason"));
        assertEquals(0, doc.getJSONArray("results").length());
        assertEquals(3, doc.getJSONObject("method").getInt("iterations"));
    }
}
