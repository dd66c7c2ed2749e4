package org.mnistdeploy.demo.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The app's core logic from the command line, so the Python tests can compare it with the Python
 * reference on the same inputs (tests/mobile_demo/test_cross_language.py):
 *
 *   preprocess IMAGE.pgm MANIFEST.json  -> {"pixels": [...], "input": [...]}  (binary P5 PGM, 8 bit)
 *   stats < samples                     -> LatencyStats of whitespace-separated microseconds
 *   manifest MANIFEST.json              -> what the app reads from it: input, normalization, artifacts
 */
public final class Cli {
    private Cli() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 3 && args[0].equals("preprocess")) {
            System.out.println(Json.write(preprocess(args[1], Manifest.parse(read(args[2])))));
        } else if (args.length == 1 && args[0].equals("stats")) {
            System.out.println(Json.write(stats(System.in)));
        } else if (args.length == 2 && args[0].equals("manifest")) {
            System.out.println(Json.write(describe(Manifest.parse(read(args[1])))));
        } else {
            System.err.println("usage: Cli preprocess IMAGE.pgm MANIFEST.json | stats < SAMPLES | manifest MANIFEST.json");
            System.exit(2);
        }
    }

    static Map<String, Object> preprocess(String pgm, Manifest m) throws IOException {
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
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pixels", px);
        out.put("input", m.normalization.apply(px));
        return out;
    }

    private static String token(byte[] d, int[] pos) {
        while (Character.isWhitespace(d[pos[0]])) pos[0]++;
        int s = pos[0];
        while (!Character.isWhitespace(d[pos[0]])) pos[0]++;
        return new String(d, s, pos[0] - s, StandardCharsets.US_ASCII);
    }

    static Map<String, Object> stats(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) b.write(buf, 0, n);  // InputStream.readAllBytes: Android API 33
        String text = b.toString("UTF-8").trim();
        List<Double> vals = new ArrayList<>();
        for (String t : text.split("\\s+")) vals.add(Double.parseDouble(t));
        double[] s = new double[vals.size()];
        for (int k = 0; k < s.length; k++) s[k] = vals.get(k);
        return new LatencyStats(s).toJson();
    }

    static Map<String, Object> describe(Manifest m) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("input_name", m.inputName);
        List<Object> shape = new ArrayList<>();
        for (long d : m.inputShape(1)) shape.add(d);
        out.put("input_shape", shape);
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("scale", m.normalization.scale);
        n.put("mean", m.normalization.mean);
        n.put("std", m.normalization.std);
        out.put("normalization", n);
        out.put("classes", new ArrayList<Object>(m.classes));
        List<Object> arts = new ArrayList<>();
        for (Manifest.Artifact a : m.runnable(ModelRunner.FORMATS)) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", a.name);
            r.put("path", a.path);
            r.put("sha256", a.sha256);
            r.put("format", a.format);
            arts.add(r);
        }
        out.put("runnable", arts);
        out.put("test_vectors", m.testVectorsPath);
        return out;
    }

    private static String read(String path) throws IOException {
        return new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
    }
}
