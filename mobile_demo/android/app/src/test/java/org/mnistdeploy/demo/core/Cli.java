package org.mnistdeploy.demo.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * The app's core logic from the command line, so the Python tests can compare it with the Python
 * reference on the same inputs (tests/mobile_demo/test_cross_language.py). Test code: it runs from
 * the compiled test classes with org.json on the classpath (check.sh writes the classpath).
 *
 *   preprocess IMAGE.pgm MANIFEST.json  -> {"pixels": [...], "input": [...]}  (binary P5 PGM, 8 bit)
 *   stats < samples                     -> LatencyStats of whitespace-separated microseconds
 *   manifest MANIFEST.json              -> what the app reads from it: input, normalization, artifacts
 *   flips MANIFEST.json N...            -> [allowed top-1 flips of a quantized artifact on N vectors, ...]
 *   constants                           -> the app's own constants: formats it runs, results file name
 */
public final class Cli {
    private Cli() {}

    public static void main(String[] args) throws IOException, JSONException {
        if (args.length == 3 && args[0].equals("preprocess")) {
            System.out.println(preprocess(args[1], Manifest.parse(read(args[2]))));
        } else if (args.length == 1 && args[0].equals("stats")) {
            System.out.println(stats(System.in));
        } else if (args.length == 2 && args[0].equals("manifest")) {
            System.out.println(describe(Manifest.parse(read(args[1]))));
        } else if (args.length >= 3 && args[0].equals("flips")) {
            QuantizedCheck rule = Manifest.parse(read(args[1])).quantizedCheck;
            JSONArray out = new JSONArray();
            for (int k = 2; k < args.length; k++) out.put(rule.allowedFlips(Integer.parseInt(args[k])));
            System.out.println(out);
        } else if (args.length == 1 && args[0].equals("constants")) {
            System.out.println(new JSONObject().put("formats", new JSONArray(ModelRunner.FORMATS))
                    .put("results_name", Benchmark.RESULTS_NAME).put("schema_version", Manifest.SCHEMA_VERSION));
        } else {
            System.err.println("usage: Cli preprocess IMAGE.pgm MANIFEST.json | stats < SAMPLES | manifest MANIFEST.json"
                    + " | flips MANIFEST.json N... | constants");
            System.exit(2);
        }
    }

    static JSONObject preprocess(String pgm, Manifest m) throws IOException, JSONException {
        byte[] data = Files.readAllBytes(Paths.get(pgm));
        // Header: "P5" width height maxval, whitespace separated, then one byte per pixel.
        int[] pos = {0};
        String magic = token(data, pos);
        int w = Integer.parseInt(token(data, pos));
        int h = Integer.parseInt(token(data, pos));
        int maxval = Integer.parseInt(token(data, pos));
        if (!magic.equals("P5") || maxval != 255) {
            throw new IllegalArgumentException(pgm + ": expected a binary 8-bit PGM (P5, maxval 255)");
        }
        int start = pos[0] + 1;  // exactly one whitespace byte after maxval
        int[] gray = new int[w * h];
        for (int k = 0; k < gray.length; k++) gray[k] = data[start + k] & 0xff;
        double[] px = Preprocess.toPixels(gray, w, h, m.height);
        JSONArray pixels = new JSONArray(), input = new JSONArray();
        for (double v : px) pixels.put(v);
        for (float v : m.normalization.apply(px)) input.put((double) v);  // exact: every float is a double
        return new JSONObject().put("pixels", pixels).put("input", input);
    }

    private static String token(byte[] d, int[] pos) {
        while (Character.isWhitespace(d[pos[0]])) pos[0]++;
        int s = pos[0];
        while (!Character.isWhitespace(d[pos[0]])) pos[0]++;
        return new String(d, s, pos[0] - s, StandardCharsets.US_ASCII);
    }

    static JSONObject stats(InputStream in) throws IOException, JSONException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) b.write(buf, 0, n);  // InputStream.readAllBytes: Android API 33
        String text = b.toString("UTF-8").trim();
        List<Double> vals = new ArrayList<>();
        for (String t : text.split("\\s+")) vals.add(Double.parseDouble(t));
        double[] s = new double[vals.size()];
        for (int k = 0; k < s.length; k++) s[k] = vals.get(k);
        return new LatencyStats(s).addTo(new JSONObject());
    }

    static JSONObject describe(Manifest m) throws JSONException {
        JSONObject out = new JSONObject();
        out.put("input_name", m.inputName);
        JSONArray shape = new JSONArray();
        for (long d : m.inputShape(1)) shape.put(d);
        out.put("input_shape", shape);
        out.put("normalization", new JSONObject().put("scale", m.normalization.scale)
                .put("mean", m.normalization.mean).put("std", m.normalization.std));
        out.put("classes", new JSONArray(m.classes));
        JSONArray arts = new JSONArray();
        for (Manifest.Artifact a : m.runnable(ModelRunner.FORMATS)) {
            arts.put(new JSONObject().put("name", a.name).put("path", a.path).put("sha256", a.sha256)
                    .put("format", a.format));
        }
        out.put("runnable", arts);
        out.put("test_vectors", m.testVectorsPath);
        out.put("executorch_exporter", m.executorchExporter == null ? JSONObject.NULL : m.executorchExporter);
        return out;
    }

    private static String read(String path) throws IOException {
        return new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
    }
}
