package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.List;
import org.json.JSONObject;
import org.junit.Test;

public class LoadedArtifactTest {
    private static final int FIRST_CALL_MS = 30;

    /** Returns the reference logits of Fixtures.vectors ([1, 0]); its first call takes FIRST_CALL_MS. */
    private static class SlowFirstCall implements ModelRunner {
        final List<Long> calls = new ArrayList<>();
        boolean closed;

        public float[] run(float[] x, long[] shape) throws InterruptedException {
            if (calls.isEmpty()) Thread.sleep(FIRST_CALL_MS);
            calls.add(System.nanoTime());
            return new float[] {1f, 0f};
        }
        public String runtime() { return "reference"; }
        public void close() { closed = true; }
    }

    private static Manifest manifest() { return Manifest.parse(Fixtures.manifest()); }

    @Test
    public void firstMsIsTheFirstCallOnTheFreshLoadNotOneAfterVerification() throws Exception {
        Manifest m = manifest();
        TestVectors tv = TestVectors.parse(Fixtures.vectors(8));
        SlowFirstCall r = new SlowFirstCall();
        LoadedArtifact l = LoadedArtifact.load(m.artifacts.get(0), () -> r, m, tv);
        assertTrue(l.error, l.ok());
        assertTrue(l.verification.toString(), l.verification.passed);
        JSONObject row = Benchmark.okRow(l, Benchmark.time(l.runner, tv.input(0), m.inputShape(1), 2, 5));
        assertTrue("first_ms " + row.getDouble("first_ms") + " is not the slow first call",
                row.getDouble("first_ms") >= FIRST_CALL_MS);
        assertEquals("one first call, the vectors, warm-up and timed calls", 1 + 8 + 2 + 5, r.calls.size());
    }

    @Test
    public void aFailingArtifactIsOneLineAndItsRunnerIsClosed() {
        Manifest m = manifest();
        TestVectors tv = TestVectors.parse(Fixtures.vectors(2));
        SlowFirstCall r = new SlowFirstCall() {
            @Override public float[] run(float[] x, long[] shape) { return new float[] {1f, 0f, 0f}; }
        };
        LoadedArtifact l = LoadedArtifact.load(m.artifacts.get(0), () -> r, m, tv);
        assertFalse(l.ok());
        assertTrue(l.error, l.error.contains("artifact returned 3 logits, reference has 2"));
        assertTrue("the runner that opened must be closed", r.closed);
        assertNull(l.runner);
    }

    @Test
    public void aRuntimeWithoutItsNativeLibraryIsNotAvailableNotACrash() {
        Manifest m = manifest();
        TestVectors tv = TestVectors.parse(Fixtures.vectors(2));
        Manifest.Artifact pte = m.artifacts.get(1);
        LoadedArtifact l = LoadedArtifact.load(pte, () -> { throw new UnsatisfiedLinkError("dlopen failed: library \"libexecutorch.so\" not found"); }, m, tv);
        assertEquals("executorch-android is not available on this device (UnsatisfiedLinkError: dlopen failed: library "
                + "\"libexecutorch.so\" not found); the other runtimes' artifacts still run", l.error);
    }
}
