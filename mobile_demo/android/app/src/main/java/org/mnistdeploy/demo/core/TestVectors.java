package org.mnistdeploy.demo.core;

import java.util.List;
import java.util.Map;

/** artifacts/test_vectors.json: real MNIST test images with the fp32 PyTorch reference logits. */
public final class TestVectors {
    public final int count;
    public final int[][] pixels;          // count x (H*W) raw uint8 pixels, row-major
    public final int[] labels;
    public final float[][] expectedLogits;
    public final double fp32Tolerance;    // max abs logit difference allowed for an fp32 artifact
    public final Normalization normalization;

    private TestVectors(Map<String, Object> root) {
        count = (int) Json.num(Json.get(root, "count", "test_vectors"), "count");
        normalization = Normalization.fromJson(Json.get(root, "normalization", "test_vectors"),
                "test_vectors.normalization");
        List<Object> px = Json.list(Json.get(root, "pixels", "test_vectors"), "pixels");
        List<Object> lab = Json.list(Json.get(root, "labels", "test_vectors"), "labels");
        List<Object> exp = Json.list(Json.get(root, "expected_logits", "test_vectors"), "expected_logits");
        if (px.size() != count || lab.size() != count || exp.size() != count) {
            throw new IllegalArgumentException("test_vectors: count is " + count + " but pixels/labels/"
                    + "expected_logits have " + px.size() + "/" + lab.size() + "/" + exp.size());
        }
        pixels = new int[count][];
        labels = new int[count];
        expectedLogits = new float[count][];
        for (int k = 0; k < count; k++) {
            List<Object> row = Json.list(px.get(k), "pixels[" + k + "]");
            pixels[k] = new int[row.size()];
            for (int j = 0; j < row.size(); j++) pixels[k][j] = (int) Json.num(row.get(j), "pixels[][]");
            labels[k] = (int) Json.num(lab.get(k), "labels[]");
            List<Object> lg = Json.list(exp.get(k), "expected_logits[" + k + "]");
            expectedLogits[k] = new float[lg.size()];
            for (int j = 0; j < lg.size(); j++) expectedLogits[k][j] = (float) Json.num(lg.get(j), "logit");
        }
        Map<String, Object> tol = Json.obj(Json.get(root, "tolerance", "test_vectors"), "tolerance");
        fp32Tolerance = Json.num(Json.get(tol, "fp32_max_abs_diff", "tolerance"), "fp32_max_abs_diff");
    }

    public static TestVectors parse(String text) {
        return new TestVectors(Json.obj(Json.parse(text), "test_vectors"));
    }

    /** Vector k normalized exactly as the model expects: the raw pixels need no resampling. */
    public float[] input(int k) {
        float[] out = new float[pixels[k].length];
        for (int j = 0; j < out.length; j++) out[j] = normalization.apply(pixels[k][j]);
        return out;
    }
}
