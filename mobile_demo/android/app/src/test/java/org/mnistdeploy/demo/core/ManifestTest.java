package org.mnistdeploy.demo.core;

import static org.junit.Assert.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.Test;

public class ManifestTest {
    @Test
    public void readsInputClassesAndArtifacts() {
        Manifest m = Manifest.parse(Fixtures.manifest());
        assertEquals("input", m.inputName);
        assertArrayEquals(new long[] {1, 1, 28, 28}, m.inputShape(1));
        assertEquals(255.0, m.normalization.scale, 0);
        assertEquals(0.5, m.normalization.mean, 0);
        assertEquals(10, m.classes.size());
        assertEquals("test_vectors.json", m.testVectorsPath);
        assertEquals(4, m.artifacts.size());
    }

    @Test
    public void runnableKeepsOkArtifactsWithARuntime() {
        List<String> names = new ArrayList<>();
        for (Manifest.Artifact a : Manifest.parse(Fixtures.manifest()).runnable(ModelRunner.FORMATS)) names.add(a.name);
        assertEquals(List.of("mlp_onnx_fp32", "mlp_executorch-xnnpack_fp32"), names);
    }

    @Test
    public void shapeComesFromTheManifest() {
        Manifest m = Manifest.parse(Fixtures.manifest("[\"batch\", 1, 32, 32]", "\"a.onnx\""));
        assertArrayEquals(new long[] {2, 1, 32, 32}, m.inputShape(2));
        assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(Fixtures.manifest("[\"batch\", 3, 28, 28]", "\"a.onnx\"")));
        assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(Fixtures.manifest("[1, 1, 28, 28]", "\"a.onnx\"")));
    }

    @Test
    public void pathsMayNotLeaveTheManifestFolder() {
        for (String bad : new String[] {"\"../x.onnx\"", "\"/etc/x.onnx\"", "\"a/../../x.onnx\""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Manifest.parse(Fixtures.manifest("[\"batch\", 1, 28, 28]", bad)));
            assertTrue(e.getMessage(), e.getMessage().contains("leaves the manifest's folder"));
        }
    }

    @Test
    public void rejectsAnotherSchemaVersion() {
        String text = Fixtures.manifest().replace("\"schema_version\": 1", "\"schema_version\": 2");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Manifest.parse(text));
        assertTrue(e.getMessage(), e.getMessage().contains("schema_version"));
    }

    @Test
    public void recordsTheExportersVersionWhenPresent() {
        assertNull(Manifest.parse(Fixtures.manifest()).executorchExporter);
        String text = Fixtures.manifest().replace("\"run_id\": \"t\",",
                "\"run_id\": \"t\", \"versions\": {\"executorch\": \"1.5.1+cpu\", \"torch\": \"2.14.1\"},");
        assertEquals("1.5.1+cpu", Manifest.parse(text).executorchExporter);
    }

    @Test
    public void aTruncatedManifestIsAClearError() {
        String text = Fixtures.manifest();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(text.substring(0, text.length() / 2)));
        assertTrue(e.getMessage(), e.getMessage().startsWith("manifest.json: "));
        assertTrue(e.getMessage(), e.getMessage().contains("python -m export --embed"));
        String noInput = text.replace("\"input\": {", "\"inputs\": {");
        e = assertThrows(IllegalArgumentException.class, () -> Manifest.parse(noInput));
        assertTrue(e.getMessage(), e.getMessage().contains("input"));
    }
}
