package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.json.JSONObject;
import org.junit.Test;

public class QuantizedCheckTest {
    /** P[Binomial(n, r) > k] by the textbook sum, independent of allowedFlips' recurrence. */
    private static double tail(int n, double r, int k) {
        double sum = 0, logChoose = 0;  // log C(n, j), built up in logs: C(2000, 1000) overflows a double
        for (int j = 1; j <= n; j++) {
            logChoose += Math.log(n - j + 1) - Math.log(j);
            if (j > k) sum += Math.exp(logChoose + j * Math.log(r) + (n - j) * Math.log1p(-r));
        }
        return k < 0 ? 1.0 : sum;
    }

    @Test
    public void allowedFlipsIsTheSmallestCountWhoseTailIsWithinTheFalseAlarm() {
        QuantizedCheck c = new QuantizedCheck(0.01, 0.001);
        for (int n : new int[] {3, 10, 32, 100, 500, 2000}) {
            int k = c.allowedFlips(n);
            assertTrue(n + ": tail above k", tail(n, 0.01, k) <= 0.001 * (1 + 1e-9));
            assertTrue(n + ": k is not the smallest", tail(n, 0.01, k - 1) > 0.001);
        }
        assertEquals(3, c.allowedFlips(32));
        assertEquals(1, c.allowedFlips(1));  // one vector cannot tell a flip from a fault: say so, do not guess
        assertEquals(0, c.allowedFlips(0));
    }

    @Test
    public void aStricterRuleAllowsFewerFlips() {
        assertTrue(new QuantizedCheck(0.001, 0.001).allowedFlips(1000) < new QuantizedCheck(0.01, 0.001).allowedFlips(1000));
        assertTrue(new QuantizedCheck(0.01, 1e-6).allowedFlips(1000) > new QuantizedCheck(0.01, 0.001).allowedFlips(1000));
    }

    @Test
    public void aMissingOrNonsenseRuleIsAClearError() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new QuantizedCheck(0, 0.001));
        assertThrows(IllegalArgumentException.class, () -> new QuantizedCheck(0.01, 1.5));
        String noRule = Fixtures.manifest().replace("quantized_check", "another_key");
        assertNotEquals(Fixtures.manifest(), noRule);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Manifest.parse(noRule));
        assertTrue(e.getMessage(), e.getMessage().contains("quantized_check"));
        JSONObject rule = new JSONObject("{\"max_flip_rate\": 0.01, \"false_alarm\": 0.001}");
        assertEquals(0.01, QuantizedCheck.fromJson(rule).maxFlipRate, 0);
    }
}
