package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class VerifierTest {
    private final TestVectors tv = TestVectors.parse(Fixtures.vectors());

    @Test
    public void referenceLogitsPass() {
        Verifier.Result r = Verifier.compare(tv.expectedLogits, tv, false);
        assertTrue(r.toString(), r.passed);
        assertEquals(1.0, r.top1Agreement, 0);
        assertEquals(0.0, r.maxAbsDiff, 0);
    }

    @Test
    public void fp32DriftBeyondToleranceFails() {
        float[][] out = {tv.expectedLogits[0].clone(), tv.expectedLogits[1].clone()};
        out[1][2] += 1e-3f;
        Verifier.Result r = Verifier.compare(out, tv, false);
        assertFalse(r.passed);
        assertEquals(1e-3, r.maxAbsDiff, 1e-6);
        assertTrue("a quantized artifact is judged on agreement only", Verifier.compare(out, tv, true).passed);
    }

    @Test
    public void flippedPredictionIsCounted() {
        float[][] out = {{5f, 0f, 0f}, tv.expectedLogits[1].clone()};
        Verifier.Result r = Verifier.compare(out, tv, true);
        assertEquals(0.5, r.top1Agreement, 0);
        assertFalse(r.passed);
    }

    @Test
    public void verifyRunsEachVectorThroughTheRunner() throws Exception {
        Manifest m = Manifest.parse(Fixtures.manifest("[\"batch\", 1, 2, 2]", "\"a.onnx\""));
        // A runner that looks the reference up by its input: a real computation, no framework.
        ModelRunner lookup = new ModelRunner() {
            public float[] run(float[] input, long[] shape) {
                assertArrayEquals(new long[] {1, 1, 2, 2}, shape);
                return input[0] < 0 ? tv.expectedLogits[0] : tv.expectedLogits[1];
            }
            public String runtime() { return "lookup"; }
            public void close() {}
        };
        assertTrue(Verifier.verify(lookup, m, tv, false).passed);
    }
}
