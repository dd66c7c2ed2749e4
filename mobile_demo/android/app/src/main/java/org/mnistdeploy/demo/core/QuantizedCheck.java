package org.mnistdeploy.demo.core;

import java.util.Locale;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * How many top-1 flips a quantized artifact may show on n test vectors (the manifest's
 * test_vectors.quantized_check, written by export.embed from export/verify.py's QUANTIZED_CHECK).
 * int8 may flip a borderline image, so k flips pass where k is the smallest count with
 * P[Binomial(n, maxFlipRate) > k] <= falseAlarm: a correct artifact flipping maxFlipRate of its
 * images fails once in 1/falseAlarm checks, whatever n is. Same arithmetic, step for step, as
 * export/verify.py's allowed_flips and core.js's allowedFlips (tests compare the three).
 */
public final class QuantizedCheck {
    public final double maxFlipRate, falseAlarm;

    public QuantizedCheck(double maxFlipRate, double falseAlarm) {
        if (!(maxFlipRate > 0 && maxFlipRate < 1) || !(falseAlarm > 0 && falseAlarm < 1)) {
            throw new IllegalArgumentException("quantized_check needs 0 < max_flip_rate < 1 and 0 < false_alarm < 1, got "
                    + maxFlipRate + ", " + falseAlarm + "; re-run `python -m export --embed`");
        }
        this.maxFlipRate = maxFlipRate;
        this.falseAlarm = falseAlarm;
    }

    static QuantizedCheck fromJson(JSONObject o) throws JSONException {
        return new QuantizedCheck(o.getDouble("max_flip_rate"), o.getDouble("false_alarm"));
    }

    /** The most flips allowed among n vectors (n up to the 10k test set: (1-rate)^n stays a normal double). */
    public int allowedFlips(int n) {
        double p = 1.0;  // P[X = 0] = (1 - rate)^n by repeated products: exact-rounded steps in every language
        for (int k = 0; k < n; k++) p *= 1.0 - maxFlipRate;
        double cdf = p;
        int k = 0;
        while (k < n && 1.0 - cdf > falseAlarm) {
            p *= (double) (n - k) / (k + 1) * (maxFlipRate / (1.0 - maxFlipRate));  // P[X = k+1]
            cdf += p;
            k++;
        }
        return k;
    }

    public String describe(int n) {
        return String.format(Locale.US, "quantized: at most %d top-1 flips of %d (P[Binomial(%d, %s) > %d] <= %s)",
                allowedFlips(n), n, n, maxFlipRate, allowedFlips(n), falseAlarm);
    }
}
