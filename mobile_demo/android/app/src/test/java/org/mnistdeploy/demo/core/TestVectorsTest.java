package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class TestVectorsTest {
    @Test
    public void parsesAndNormalizesLikeTheModelExpects() {
        TestVectors tv = TestVectors.parse(Fixtures.vectors());
        assertEquals(2, tv.count);
        assertArrayEquals(new int[] {2, 0}, tv.labels);
        assertArrayEquals(new float[] {-1f, 1f, -1f, 1f}, tv.input(0), 0f);  // (p/255 - 0.5)/0.5
        assertEquals(1e-4, tv.fp32Tolerance, 0);
    }

    @Test
    public void countMismatchIsAnError() {
        String bad = Fixtures.vectors().replace("\"count\": 2", "\"count\": 3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestVectors.parse(bad));
        assertTrue(e.getMessage(), e.getMessage().contains("count is 3"));
    }
}
