package org.mnistdeploy.demo.core;

import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/** x = (pixel / scale - mean) / std, one grayscale channel; read from the manifest, never a constant. */
public final class Normalization {
    public final double scale;
    public final double mean;
    public final double std;

    public Normalization(double scale, double mean, double std) {
        if (!(scale > 0) || !(std > 0)) {
            throw new IllegalArgumentException("normalization needs scale > 0 and std > 0, got scale="
                    + scale + " std=" + std);
        }
        this.scale = scale;
        this.mean = mean;
        this.std = std;
    }

    static Normalization fromJson(JSONObject m, String where) throws JSONException {
        JSONArray mean = m.getJSONArray("mean");
        JSONArray std = m.getJSONArray("std");
        if (mean.length() != 1 || std.length() != 1) {
            throw new IllegalArgumentException(where + ": expected one channel (mean and std of length 1), got "
                    + mean.length() + " and " + std.length());
        }
        return new Normalization(m.getDouble("scale"), mean.getDouble(0), std.getDouble(0));
    }

    /** One pixel value (0..scale, may be fractional after resampling) to the model's input value. */
    public float apply(double pixel) {
        return (float) ((pixel / scale - mean) / std);
    }

    public float[] apply(double[] pixels) {
        float[] out = new float[pixels.length];
        for (int k = 0; k < pixels.length; k++) out[k] = apply(pixels[k]);
        return out;
    }

    public boolean sameAs(Normalization o) {
        return scale == o.scale && mean == o.mean && std == o.std;
    }
}
