package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

/** Expected values computed with numpy.percentile(method="linear") and runtime/stats.py. */
public class LatencyStatsTest {
    @Test
    public void percentilesInterpolateLikeNumpy() {
        LatencyStats s = new LatencyStats(new double[] {4, 1, 100, 3, 2});
        assertEquals(3.0, s.p50, 0);
        assertEquals(61.6, s.p90, 1e-9);   // rank 3.6: 4 + 0.6 * 96
        assertEquals(96.16, s.p99, 1e-9);  // rank 3.96
        assertEquals(22.0, s.mean, 1e-12);
        assertEquals(22.0, s.trimmedMean, 1e-12);  // n=5: floor(5/10)=0 dropped from each end
    }

    @Test
    public void trimmedMeanDropsTenPercentEachEnd() {
        double[] v = new double[20];
        for (int k = 0; k < 20; k++) v[k] = k + 1;
        v[19] = 1000;  // one outlier
        LatencyStats s = new LatencyStats(v);
        assertEquals(10.5, s.trimmedMean, 1e-12);  // mean of 3..18
        assertEquals(10.5, s.p50, 0);
    }

    @Test
    public void oneSample() {
        LatencyStats s = new LatencyStats(new double[] {7});
        assertEquals(7, s.p99, 0);
        assertEquals(7, s.trimmedMean, 0);
        assertThrows(IllegalArgumentException.class, () -> new LatencyStats(new double[0]));
    }
}
