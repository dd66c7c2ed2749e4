package org.mnistdeploy.demo.core;

/** Logits -> class probabilities and the predicted class (the artifacts return raw logits). */
public final class Softmax {
    private Softmax() {}

    /** Numerically stable softmax: subtract the max logit before exp so large logits cannot overflow. */
    public static double[] probabilities(float[] logits) {
        if (logits.length == 0) throw new IllegalArgumentException("softmax of no logits");
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int k = 0; k < logits.length; k++) {
            p[k] = Math.exp(logits[k] - max);
            sum += p[k];
        }
        for (int k = 0; k < p.length; k++) p[k] /= sum;
        return p;
    }

    /** Index of the largest value; the first one on ties (as numpy.argmax). */
    public static int argmax(float[] v) {
        int best = 0;
        for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
        return best;
    }
}
