package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class SoftmaxTest {
    @Test
    public void probabilitiesSumToOneAndKeepOrder() {
        double[] p = Softmax.probabilities(new float[] {1f, 2f, 3f});
        assertEquals(1.0, p[0] + p[1] + p[2], 1e-12);
        assertEquals(Math.exp(1) / (Math.exp(1) + Math.exp(2) + Math.exp(3)), p[0], 1e-12);
        assertTrue(p[2] > p[1] && p[1] > p[0]);
    }

    @Test
    public void largeLogitsDoNotOverflow() {
        double[] p = Softmax.probabilities(new float[] {1000f, 999f});
        assertEquals(1 / (1 + Math.exp(-1)), p[0], 1e-12);
    }

    @Test
    public void argmaxTakesTheFirstOnTies() {
        assertEquals(1, Softmax.argmax(new float[] {0f, 5f, 5f, -1f}));
    }
}
