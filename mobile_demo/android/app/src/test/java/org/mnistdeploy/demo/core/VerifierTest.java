package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class VerifierTest {
    private final TestVectors tv = TestVectors.parse(Fixtures.vectors());
    private final QuantizedCheck rule = new QuantizedCheck(0.01, 0.001);

    @Test
    public void referenceLogitsPass() {
        Verifier.Result r = Verifier.compare(tv.expectedLogits, tv, null);
        assertTrue(r.toString(), r.passed);
        assertEquals(1.0, r.top1Agreement, 0);
        assertEquals(0.0, r.maxAbsDiff, 0);
    }

    @Test
    public void fp32DriftBeyondToleranceFails() {
        float[][] out = {tv.expectedLogits[0].clone(), tv.expectedLogits[1].clone()};
        out[1][2] += 1e-3f;
        Verifier.Result r = Verifier.compare(out, tv, null);
        assertFalse(r.passed);
        assertEquals(1e-3, r.maxAbsDiff, 1e-6);
        assertTrue("a quantized artifact is judged on agreement only", Verifier.compare(out, tv, rule).passed);
    }

    @Test
    public void flippedPredictionIsCounted() {
        float[][] out = {{5f, 0f, 0f}, tv.expectedLogits[1].clone()};
        Verifier.Result r = Verifier.compare(out, tv, rule);
        assertEquals(0.5, r.top1Agreement, 0);
        assertTrue("1 flip of 2 vectors is within the rule (2 vectors cannot tell)", r.passed);
    }

    /** logits for n vectors of Fixtures.vectors(n) with the first `flips` predicting class 1. */
    private static float[][] withFlips(int n, int flips) {
        float[][] out = new float[n][];
        for (int k = 0; k < n; k++) out[k] = k < flips ? new float[] {0f, 1f} : new float[] {1f, 0f};
        return out;
    }

    @Test
    public void theFlipsAllowedFollowTheVectorCountNotAFixedFraction() {
        // A fixed 0.9 agreement would pass 8 flips of 100 (0.92) and fail 2 of 10 (0.8): backwards
        // for a check whose false alarms must not depend on the count.
        TestVectors hundred = TestVectors.parse(Fixtures.vectors(100)), ten = TestVectors.parse(Fixtures.vectors(10));
        assertEquals(5, rule.allowedFlips(100));
        assertTrue(Verifier.compare(withFlips(100, 5), hundred, rule).passed);
        assertFalse(Verifier.compare(withFlips(100, 8), hundred, rule).passed);
        assertTrue(Verifier.compare(withFlips(10, 2), ten, rule).passed);
        assertFalse(Verifier.compare(withFlips(10, 3), ten, rule).passed);
        assertFalse("an fp32 artifact may not flip at all", Verifier.compare(withFlips(100, 1), hundred, null).passed);
    }

    @Test
    public void verifyTakesTheRuleFromTheManifest() throws Exception {
        Manifest m = Manifest.parse(Fixtures.manifest("[\"batch\", 1, 1, 1]", "\"a.onnx\""));
        TestVectors ten = TestVectors.parse(Fixtures.vectors(10));
        int[] calls = {0};
        ModelRunner flipsTwo = new ModelRunner() {  // flips the first two vectors it sees
            public float[] run(float[] input, long[] shape) {
                return calls[0]++ < 2 ? new float[] {0f, 1f} : new float[] {1f, 0f};
            }
            public String runtime() { return "flips"; }
            public void close() {}
        };
        Verifier.Result r = Verifier.verify(flipsTwo, m, ten, true);
        assertTrue(r.toString(), r.passed);
        assertEquals(m.quantizedCheck.describe(10), r.rule);
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
