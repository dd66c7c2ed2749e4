package org.mnistdeploy.demo.core;

import java.util.Arrays;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Latency summary with the same definitions as runtime/stats.py (tests compare the two):
 * percentiles by linear interpolation between order statistics (numpy's default "linear":
 * rank = q/100 * (n-1)), and the trimmed mean over the middle 80% (drop floor(n/10) samples from
 * each end of the sorted list). Samples and results are in microseconds.
 */
public final class LatencyStats {
    public final int count;
    public final double p50, p90, p99, mean, trimmedMean;

    public LatencyStats(double[] samplesUs) {
        if (samplesUs.length == 0) throw new IllegalArgumentException("no latency samples");
        double[] s = samplesUs.clone();
        Arrays.sort(s);
        count = s.length;
        p50 = percentile(s, 50);
        p90 = percentile(s, 90);
        p99 = percentile(s, 99);
        mean = meanOf(s, 0, s.length);
        int cut = s.length / 10;
        trimmedMean = meanOf(s, cut, s.length - cut);
    }

    /** q-th percentile (0..100) of sorted samples, numpy "linear" method. */
    public static double percentile(double[] sorted, double q) {
        double rank = q / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double frac = rank - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }

    private static double meanOf(double[] s, int from, int to) {
        double sum = 0;
        for (int k = from; k < to; k++) sum += s[k];
        return sum / (to - from);
    }

    /** Put the result-row fields of docs/manifest.md's device results into row; returns row. */
    public JSONObject addTo(JSONObject row) throws JSONException {
        row.put("p50_us", p50);
        row.put("p90_us", p90);
        row.put("p99_us", p99);
        row.put("mean_us", mean);
        row.put("trimmed_mean_us", trimmedMean);
        return row;
    }
}
