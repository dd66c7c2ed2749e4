package org.mnistdeploy.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The parts of artifacts/manifest.json (docs/manifest.md, schema 1) the apps need: input name,
 * shape and normalization, class names, and the artifacts with their files and sha256.
 */
public final class Manifest {
    public static final int SCHEMA_VERSION = 1;

    /** One artifact row; path and sha256 are null unless status is "ok". */
    public static final class Artifact {
        public final String name, format, backend, quantization, path, sha256, status;

        Artifact(Map<String, Object> m, String where) {
            name = Json.str(Json.get(m, "name", where), where + ".name");
            format = Json.str(Json.get(m, "format", where), where + ".format");
            backend = Json.str(Json.get(m, "backend", where), where + ".backend");
            quantization = Json.str(Json.get(m, "quantization", where), where + ".quantization");
            status = Json.str(Json.get(m, "status", where), where + ".status");
            Object p = m.get("path");
            path = p == null ? null : safePath(Json.str(p, where + ".path"), where + ".path");
            Object h = m.get("sha256");
            sha256 = h == null ? null : Json.str(h, where + ".sha256");
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

    private Manifest(Map<String, Object> root) {
        double version = Json.num(Json.get(root, "schema_version", "manifest"), "schema_version");
        if (version != SCHEMA_VERSION) {
            throw new IllegalArgumentException("manifest schema_version " + version + " is not "
                    + SCHEMA_VERSION + "; re-run `python -m export --embed` with a matching app");
        }
        Map<String, Object> input = Json.obj(Json.get(root, "input", "manifest"), "input");
        inputName = Json.str(Json.get(input, "name", "input"), "input.name");
        List<Object> shape = Json.list(Json.get(input, "shape", "input"), "input.shape");
        if (shape.size() != 4 || !"batch".equals(shape.get(0))) {
            throw new IllegalArgumentException("input.shape must be [\"batch\", C, H, W], got " + shape);
        }
        channels = (int) Json.num(shape.get(1), "input.shape[1]");
        height = (int) Json.num(shape.get(2), "input.shape[2]");
        width = (int) Json.num(shape.get(3), "input.shape[3]");
        if (channels != 1 || height != width || height < 1) {
            throw new IllegalArgumentException("the demo draws one square grayscale image; input.shape is " + shape);
        }
        if (!"float32".equals(input.get("dtype"))) {
            throw new IllegalArgumentException("input.dtype must be float32, got " + input.get("dtype"));
        }
        normalization = Normalization.fromJson(Json.get(input, "normalization", "input"), "input.normalization");
        Map<String, Object> dataset = Json.obj(Json.get(root, "dataset", "manifest"), "dataset");
        List<String> names = new ArrayList<>();
        for (Object c : Json.list(Json.get(dataset, "classes", "dataset"), "dataset.classes")) {
            names.add(Json.str(c, "dataset.classes[]"));
        }
        classes = Collections.unmodifiableList(names);
        List<Artifact> arts = new ArrayList<>();
        List<Object> rows = Json.list(Json.get(root, "artifacts", "manifest"), "artifacts");
        for (int k = 0; k < rows.size(); k++) {
            arts.add(new Artifact(Json.obj(rows.get(k), "artifacts[" + k + "]"), "artifacts[" + k + "]"));
        }
        artifacts = Collections.unmodifiableList(arts);
        Map<String, Object> tv = Json.obj(Json.get(root, "test_vectors", "manifest"), "test_vectors");
        testVectorsPath = safePath(Json.str(Json.get(tv, "path", "test_vectors"), "test_vectors.path"),
                "test_vectors.path");
        testVectorsSha256 = Json.str(Json.get(tv, "sha256", "test_vectors"), "test_vectors.sha256");
    }

    public static Manifest parse(String text) {
        return new Manifest(Json.obj(Json.parse(text), "manifest"));
    }

    /** Artifacts that have a file and that this app has a runtime for (formats: e.g. "onnx", "executorch"). */
    public List<Artifact> runnable(List<String> formats) {
        List<Artifact> out = new ArrayList<>();
        for (Artifact a : artifacts) {
            if (a.isOk() && formats.contains(a.format)) out.add(a);
        }
        return out;
    }

    public int inputSize() { return channels * height * width; }

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
