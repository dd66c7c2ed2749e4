package org.mnistdeploy.demo.core;

import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/** artifacts/test_vectors.json: real MNIST test images with the fp32 PyTorch reference logits. */
public final class TestVectors {
    public final int count;
    public final int[][] pixels;          // count x (H*W) raw uint8 pixels, row-major
    public final int[] labels;
    public final float[][] expectedLogits;
    public final double fp32Tolerance;    // max abs logit difference allowed for an fp32 artifact
    public final Normalization normalization;

    private TestVectors(JSONObject root) throws JSONException {
        count = root.getInt("count");
        normalization = Normalization.fromJson(root.getJSONObject("normalization"), "test_vectors.normalization");
        JSONArray px = root.getJSONArray("pixels");
        JSONArray lab = root.getJSONArray("labels");
        JSONArray exp = root.getJSONArray("expected_logits");
        if (px.length() != count || lab.length() != count || exp.length() != count) {
            throw new IllegalArgumentException("test_vectors: count is " + count + " but pixels/labels/"
                    + "expected_logits have " + px.length() + "/" + lab.length() + "/" + exp.length());
        }
        pixels = new int[count][];
        labels = new int[count];
        expectedLogits = new float[count][];
        for (int k = 0; k < count; k++) {
            JSONArray row = px.getJSONArray(k);
            pixels[k] = new int[row.length()];
            for (int j = 0; j < row.length(); j++) pixels[k][j] = row.getInt(j);
            labels[k] = lab.getInt(k);
            JSONArray lg = exp.getJSONArray(k);
            expectedLogits[k] = new float[lg.length()];
            for (int j = 0; j < lg.length(); j++) expectedLogits[k][j] = (float) lg.getDouble(j);
        }
        fp32Tolerance = root.getJSONObject("tolerance").getDouble("fp32_max_abs_diff");
    }

    /** Test vectors from their text; IllegalArgumentException names what is missing or malformed. */
    public static TestVectors parse(String text) {
        try {
            return new TestVectors(new JSONObject(text));
        } catch (JSONException e) {
            throw new IllegalArgumentException("test_vectors.json: " + e.getMessage()
                    + "; re-run `python -m export --embed` to write a complete one", e);
        }
    }

    /** Vector k normalized exactly as the model expects: the raw pixels need no resampling. */
    public float[] input(int k) {
        float[] out = new float[pixels[k].length];
        for (int j = 0; j < out.length; j++) out[j] = normalization.apply(pixels[k][j]);
        return out;
    }
}
