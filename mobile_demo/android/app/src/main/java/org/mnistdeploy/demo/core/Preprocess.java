package org.mnistdeploy.demo.core;

/**
 * Drawing -> model input, MNIST-style. Identical, step for step, to mobile_demo/preprocess.py
 * (the Python reference) and to toPixels() in mobile_demo/web/core.js; tests compare all three.
 *
 * 1. Bounding box of the ink (pixels > 0). No ink: an all-black image.
 * 2. Scale the box so its longer side is 20 px of 28 (MNIST's digit box), keeping the aspect ratio:
 *    target side t = round_half_up(side * box / longest), at least 1.
 * 3. Resample by box averaging with integer bounds: output cell i covers source rows/cols
 *    [i*n/t, max((i+1)*n/t, i*n/t + 1)) (integer division), its value the mean of those pixels.
 *    Sums are integers, so every language gets the same doubles.
 * 4. Place the patch in the 28x28 image so its centre of mass lands on the centre (14, 14), as
 *    MNIST did; offset = floor(14 - com + 0.5), clamped so the patch stays inside.
 * 5. Normalize: x = (v / scale - mean) / std, computed in double, stored as float32.
 *
 * The centre-of-mass sums run row-major in double in every implementation, so results are
 * bit-identical, not just close.
 */
public final class Preprocess {
    private Preprocess() {}

    /** MNIST's digits fit a 20x20 box inside the 28x28 image; other sizes keep that ratio. */
    public static int boxFor(int size) {
        return Math.max(1, (int) Math.floor(size * 20.0 / 28.0 + 0.5));
    }

    /** Grayscale drawing (white ink on black, 0..255, row-major) to size*size pixel values 0..255. */
    public static double[] toPixels(int[] gray, int width, int height, int size) {
        if (gray.length != width * height) {
            throw new IllegalArgumentException("image has " + gray.length + " pixels, expected "
                    + width + "x" + height);
        }
        double[] out = new double[size * size];
        int x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (gray[y * width + x] > 0) {
                    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
                    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
                }
            }
        }
        if (x1 < 0) return out;  // nothing drawn
        int bw = x1 - x0 + 1, bh = y1 - y0 + 1, longest = Math.max(bw, bh), box = boxFor(size);
        int tw = Math.max(1, (2 * bw * box + longest) / (2 * longest));  // round half up, in integers
        int th = Math.max(1, (2 * bh * box + longest) / (2 * longest));
        double[] patch = new double[tw * th];
        for (int ty = 0; ty < th; ty++) {
            int sy0 = ty * bh / th, sy1 = Math.max((ty + 1) * bh / th, sy0 + 1);
            for (int tx = 0; tx < tw; tx++) {
                int sx0 = tx * bw / tw, sx1 = Math.max((tx + 1) * bw / tw, sx0 + 1);
                long sum = 0;
                for (int y = sy0; y < sy1; y++) {
                    for (int x = sx0; x < sx1; x++) sum += gray[(y0 + y) * width + x0 + x];
                }
                patch[ty * tw + tx] = (double) sum / ((sy1 - sy0) * (sx1 - sx0));
            }
        }
        double mass = 0, mx = 0, my = 0;
        for (int ty = 0; ty < th; ty++) {
            for (int tx = 0; tx < tw; tx++) {
                double v = patch[ty * tw + tx];
                mass += v;
                mx += v * (tx + 0.5);
                my += v * (ty + 0.5);
            }
        }
        int ox = clamp((int) Math.floor(size / 2.0 - mx / mass + 0.5), 0, size - tw);
        int oy = clamp((int) Math.floor(size / 2.0 - my / mass + 0.5), 0, size - th);
        for (int ty = 0; ty < th; ty++) {
            System.arraycopy(patch, ty * tw, out, (oy + ty) * size + ox, tw);
        }
        return out;
    }

    /** The model input for one drawing: [1, 1, size, size] flattened, normalized per the manifest. */
    public static float[] toInput(int[] gray, int width, int height, int size, Normalization n) {
        return n.apply(toPixels(gray, width, height, size));
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
