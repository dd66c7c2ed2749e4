package org.mnistdeploy.demo;

import static org.junit.Assert.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.BeforeClass;
import org.junit.Test;
import org.mnistdeploy.demo.core.Manifest;
import org.mnistdeploy.demo.core.Sha256;
import org.mnistdeploy.demo.core.TestVectors;
import org.mnistdeploy.demo.core.Verifier;

/**
 * The app's own OnnxRunner and Verifier on the desktop onnxruntime (the Java API the Android AAR
 * has): every embedded .onnx artifact must verify on the embedded test vectors, as on the phone.
 * The assets folder is the system property mnist.assets (check.sh passes it; default: the
 * app's assets, written by `python -m export --embed`).
 */
public class OnnxRunnerTest {
    /** fp32 artifacts must match the PyTorch reference logits this closely (max |difference|). */
    private static final double FP32_BOUND = 1e-4;

    private static Path assets;
    private static Manifest manifest;
    private static TestVectors vectors;
    private static List<Manifest.Artifact> onnx;

    @BeforeClass
    public static void readTheEmbeddedAssets() throws IOException {
        assets = Paths.get(System.getProperty("mnist.assets", "app/src/main/assets"));
        Path m = assets.resolve("manifest.json");
        assertTrue(m + " is missing: run `python -m export --embed`, or pass -Dmnist.assets=FOLDER", Files.isRegularFile(m));
        manifest = Manifest.parse(read(m));
        Path tv = assets.resolve(manifest.testVectorsPath);
        assertEquals(tv + " differs from the manifest's sha256", manifest.testVectorsSha256, sha256(tv));
        vectors = TestVectors.parse(read(tv));
        onnx = new ArrayList<>();
        for (Manifest.Artifact a : manifest.runnable(Arrays.asList("onnx"))) onnx.add(a);
        assertFalse("no ONNX artifact is embedded in " + assets, onnx.isEmpty());
    }

    @Test
    public void everyEmbeddedOnnxArtifactVerifies() throws Exception {
        assertTrue("test vectors' fp32 tolerance " + vectors.fp32Tolerance + " is looser than " + FP32_BOUND,
                vectors.fp32Tolerance <= FP32_BOUND);
        int fp32 = 0;
        for (Manifest.Artifact a : onnx) {
            Path file = assets.resolve(a.path);
            assertEquals(a.name + ": sha256 differs from the manifest", a.sha256, sha256(file));
            try (OnnxRunner r = new OnnxRunner(file.toString(), manifest.inputName, manifest.inputShape(1))) {
                boolean quantized = !a.quantization.equals("none");
                Verifier.Result v = Verifier.verify(r, manifest, vectors, quantized);
                System.out.println(a.name + " on " + r.runtime() + ": " + v);  // the figures, in the test log
                assertTrue(a.name + ": " + v, v.passed);
                assertEquals(vectors.count, v.count);
                if (!quantized) {
                    fp32++;
                    assertTrue(a.name + ": max |diff| " + v.maxAbsDiff, v.maxAbsDiff <= FP32_BOUND);
                }
            }
        }
        assertTrue("no fp32 ONNX artifact embedded: the 1e-4 check ran on nothing", fp32 > 0);
    }

    @Test
    public void aTruncatedModelIsAClearError() throws IOException {
        Path full = assets.resolve(onnx.get(0).path);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = Files.createTempFile("truncated", ".onnx");
        try {
            Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new OnnxRunner(cut.toString(), manifest.inputName, manifest.inputShape(1)));
            assertTrue(e.getMessage(), e.getMessage().contains("is not a loadable ONNX model"));
            assertTrue(e.getMessage(), e.getMessage().contains("python -m export --embed"));
        } finally {
            Files.delete(cut);
        }
    }

    @Test
    public void aModelOfAnotherShapeIsRefusedAtLoad() {
        String path = assets.resolve(onnx.get(0).path).toString();
        long[] other = {1, 1, manifest.height + 4, manifest.width + 4};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OnnxRunner(path, manifest.inputName, other));
        assertTrue(e.getMessage(), e.getMessage().contains("takes input shape")
                && e.getMessage().contains("the manifest says " + Arrays.toString(other)));
        e = assertThrows(IllegalArgumentException.class,
                () -> new OnnxRunner(path, "pixels", manifest.inputShape(1)));
        assertTrue(e.getMessage(), e.getMessage().contains("has no tensor input \"pixels\""));
    }

    private static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }

    private static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return Sha256.of(in);
        }
    }
}
