package org.mnistdeploy.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The parts of artifacts/manifest.json (docs/manifest.md, schema 1) the apps need: input name,
 * shape and normalization, class names, the exporter's library versions, and the artifacts with
 * their files and sha256.
 */
public final class Manifest {
    public static final int SCHEMA_VERSION = 1;

    /** One artifact row; path and sha256 are null unless status is "ok". */
    public static final class Artifact {
        public final String name, format, backend, quantization, path, sha256, status;

        Artifact(JSONObject m, String where) throws JSONException {
            name = m.getString("name");
            format = m.getString("format");
            backend = m.getString("backend");
            quantization = m.getString("quantization");
            status = m.getString("status");
            path = m.isNull("path") ? null : safePath(m.getString("path"), where + ".path");
            sha256 = m.isNull("sha256") ? null : m.getString("sha256");
            if (isOk() && (path == null || sha256 == null)) {
                throw new IllegalArgumentException(where + " (" + name + ") has status ok but no path/sha256");
            }
        }

        public boolean isOk() { return "ok".equals(status); }
    }

    public final String inputName;
    public final int channels, height, width;
    public final Normalization normalization;
    public final List<String> classes;
    public final List<Artifact> artifacts;
    public final String testVectorsPath;
    public final String testVectorsSha256;
    /** How many top-1 flips a quantized artifact may show on the test vectors (test_vectors.quantized_check). */
    public final QuantizedCheck quantizedCheck;
    /** The executorch Python package that wrote the .pte files (versions.executorch); null if not recorded. */
    public final String executorchExporter;

    private Manifest(JSONObject root) throws JSONException {
        double version = root.getDouble("schema_version");
        if (version != SCHEMA_VERSION) {
            throw new IllegalArgumentException("manifest schema_version " + version + " is not "
                    + SCHEMA_VERSION + "; re-run `python -m export --embed` with a matching app");
        }
        JSONObject input = root.getJSONObject("input");
        inputName = input.getString("name");
        JSONArray shape = input.getJSONArray("shape");
        if (shape.length() != 4 || !"batch".equals(shape.get(0))) {
            throw new IllegalArgumentException("input.shape must be [\"batch\", C, H, W], got " + shape);
        }
        channels = shape.getInt(1);
        height = shape.getInt(2);
        width = shape.getInt(3);
        if (channels != 1 || height != width || height < 1) {
            throw new IllegalArgumentException("the demo draws one square grayscale image; input.shape is " + shape);
        }
        if (!"float32".equals(input.optString("dtype"))) {
            throw new IllegalArgumentException("input.dtype must be float32, got " + input.opt("dtype"));
        }
        normalization = Normalization.fromJson(input.getJSONObject("normalization"), "input.normalization");
        JSONArray names = root.getJSONObject("dataset").getJSONArray("classes");
        List<String> cls = new ArrayList<>();
        for (int k = 0; k < names.length(); k++) cls.add(names.getString(k));
        classes = Collections.unmodifiableList(cls);
        JSONArray rows = root.getJSONArray("artifacts");
        List<Artifact> arts = new ArrayList<>();
        for (int k = 0; k < rows.length(); k++) arts.add(new Artifact(rows.getJSONObject(k), "artifacts[" + k + "]"));
        artifacts = Collections.unmodifiableList(arts);
        JSONObject tv = root.getJSONObject("test_vectors");
        testVectorsPath = safePath(tv.getString("path"), "test_vectors.path");
        testVectorsSha256 = tv.getString("sha256");
        quantizedCheck = QuantizedCheck.fromJson(tv.getJSONObject("quantized_check"));
        JSONObject versions = root.optJSONObject("versions");
        executorchExporter = versions == null ? null : versions.optString("executorch", null);
    }

    /** A manifest from its text; IllegalArgumentException names what is missing or malformed. */
    public static Manifest parse(String text) {
        try {
            return new Manifest(new JSONObject(text));
        } catch (JSONException e) {
            throw new IllegalArgumentException("manifest.json: " + e.getMessage()
                    + "; re-run `python -m export --embed` to write a complete one", e);
        }
    }

    /** Artifacts that have a file and that this app has a runtime for (formats: e.g. "onnx", "executorch"). */
    public List<Artifact> runnable(List<String> formats) {
        List<Artifact> out = new ArrayList<>();
        for (Artifact a : artifacts) {
            if (a.isOk() && formats.contains(a.format)) out.add(a);
        }
        return out;
    }

    public long[] inputShape(int batch) { return new long[] {batch, channels, height, width}; }

    /** Manifest paths must stay inside the manifest's folder: no absolute paths, no "..". */
    static String safePath(String p, String what) {
        if (p.startsWith("/") || p.startsWith("\\") || p.contains("..") || p.contains(":") || p.isEmpty()) {
            throw new IllegalArgumentException(what + " \"" + p + "\" leaves the manifest's folder; "
                    + "paths must be plain names relative to it");
        }
        return p;
    }
}
