package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import org.junit.Test;

public class PreprocessTest {
    /** A w x h black canvas with a filled white rectangle. */
    private static int[] canvas(int w, int h, int rx, int ry, int rw, int rh) {
        int[] g = new int[w * h];
        for (int y = ry; y < ry + rh; y++) for (int x = rx; x < rx + rw; x++) g[y * w + x] = 255;
        return g;
    }

    private static int[] bbox(double[] px, int size) {
        int x0 = size, y0 = size, x1 = -1, y1 = -1;
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) if (px[y * size + x] > 0) {
            x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
        return new int[] {x0, y0, x1, y1};
    }

    @Test
    public void emptyDrawingIsBlack() {
        float[] in = Preprocess.toInput(new int[100 * 100], 100, 100, 28, new Normalization(255, 0.5, 0.5));
        assertEquals(784, in.length);
        for (float v : in) assertEquals(-1f, v, 0f);
    }

    @Test
    public void longerSideBecomesTwentyAndCentred() {
        // A tall 40x200 bar on a 280x280 canvas -> 4x20 patch, centred.
        double[] px = Preprocess.toPixels(canvas(280, 280, 10, 30, 40, 200), 280, 280, 28);
        assertArrayEquals(new int[] {12, 4, 15, 23}, bbox(px, 28));
        assertEquals(255.0, px[14 * 28 + 13], 0);
    }

    @Test
    public void positionOnTheCanvasDoesNotMatter() {
        double[] a = Preprocess.toPixels(canvas(300, 200, 5, 5, 60, 90), 300, 200, 28);
        double[] b = Preprocess.toPixels(canvas(300, 200, 200, 100, 60, 90), 300, 200, 28);
        assertArrayEquals(a, b, 0);
    }

    @Test
    public void tinyDrawingsAreScaledUp() {
        double[] px = Preprocess.toPixels(canvas(50, 50, 20, 20, 2, 2), 50, 50, 28);
        assertArrayEquals(new int[] {4, 4, 23, 23}, bbox(px, 28));
    }

    @Test
    public void boxAveragingKeepsGrayLevels() {
        // Left half 255, right half 0 inside the bbox (a 40x40 box whose ink is only the left column
        // region is impossible: the bbox is the ink), so draw two columns with a gap.
        int[] g = new int[40 * 40];
        for (int y = 0; y < 40; y++) { g[y * 40] = 255; g[y * 40 + 39] = 255; }
        double[] px = Preprocess.toPixels(g, 40, 40, 28);
        double total = 0;
        for (double v : px) total += v;
        // 80 of 1600 source pixels are ink: the 20x20 patch keeps that fraction of the mass.
        assertEquals(255.0 * 400 * 80 / 1600, total, 1e-9);
    }

    @Test
    public void wrongPixelCountIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> Preprocess.toPixels(new int[10], 4, 4, 28));
    }
}
