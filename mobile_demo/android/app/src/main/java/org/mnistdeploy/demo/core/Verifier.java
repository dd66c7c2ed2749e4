package org.mnistdeploy.demo.core;

import java.util.Locale;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Checks an artifact on the embedded test vectors against the fp32 PyTorch reference logits,
 * so a broken export shows on the phone at once.
 */
public final class Verifier {
    public static final class Result {
        public final double top1Agreement, maxAbsDiff;
        public final int count;
        public final boolean passed;
        public final String rule;

        Result(double top1Agreement, double maxAbsDiff, int count, boolean passed, String rule) {
            this.top1Agreement = top1Agreement;
            this.maxAbsDiff = maxAbsDiff;
            this.count = count;
            this.passed = passed;
            this.rule = rule;
        }

        public JSONObject toJson() throws JSONException {
            JSONObject m = new JSONObject();
            m.put("top1_agreement", top1Agreement);
            m.put("max_abs_diff", maxAbsDiff);
            m.put("count", count);
            m.put("passed", passed);
            m.put("rule", rule);
            return m;
        }

        @Override
        public String toString() {
            return String.format(Locale.US, "%s: top-1 %d/%d, max |diff| %.2g (%s)", passed ? "PASS" : "FAIL",
                    Math.round(top1Agreement * count), count, maxAbsDiff, rule);
        }
    }

    private Verifier() {}

    /**
     * Compare logits[k] (what the artifact returned for vector k) with the reference. quantized: the
     * flips rule of a quantized artifact (its logits differ by far more than the fp32 tolerance, so
     * only top-1 agreement is judged); null for fp32, which must match within tv.fp32Tolerance.
     */
    public static Result compare(float[][] logits, TestVectors tv, QuantizedCheck quantized) {
        if (logits.length != tv.count) {
            throw new IllegalArgumentException("got " + logits.length + " outputs for " + tv.count + " vectors");
        }
        int agree = 0;
        double maxDiff = 0;
        for (int k = 0; k < tv.count; k++) {
            float[] want = tv.expectedLogits[k];
            if (logits[k].length != want.length) {
                throw new IllegalArgumentException("vector " + k + ": artifact returned " + logits[k].length
                        + " logits, reference has " + want.length);
            }
            if (Softmax.argmax(logits[k]) == Softmax.argmax(want)) agree++;
            for (int j = 0; j < want.length; j++) maxDiff = Math.max(maxDiff, Math.abs(logits[k][j] - want[j]));
        }
        double agreement = (double) agree / tv.count;
        if (quantized != null) {
            return new Result(agreement, maxDiff, tv.count, tv.count - agree <= quantized.allowedFlips(tv.count),
                    quantized.describe(tv.count));
        }
        boolean ok = agree == tv.count && maxDiff <= tv.fp32Tolerance;
        return new Result(agreement, maxDiff, tv.count, ok,
                "fp32: all top-1 agree and max |diff| <= " + tv.fp32Tolerance);
    }

    /** Run every test vector through the artifact (batch 1, as the app runs) and compare. */
    public static Result verify(ModelRunner runner, Manifest m, TestVectors tv, boolean quantized)
            throws Exception {
        if (!tv.normalization.sameAs(m.normalization)) {
            throw new IllegalArgumentException("test_vectors normalization differs from the manifest's input");
        }
        float[][] out = new float[tv.count][];
        for (int k = 0; k < tv.count; k++) out[k] = runner.run(tv.input(k), m.inputShape(1));
        return compare(out, tv, quantized ? m.quantizedCheck : null);
    }
}
