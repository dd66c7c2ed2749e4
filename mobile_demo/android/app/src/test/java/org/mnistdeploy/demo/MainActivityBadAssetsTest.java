package org.mnistdeploy.demo;

import static org.junit.Assert.*;
import static org.mnistdeploy.demo.AppDriver.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;
import org.junit.experimental.runners.Enclosed;
import org.junit.runner.RunWith;
import org.robolectric.android.controller.ActivityController;

/**
 * The real MainActivity in bench mode on broken copies of the embedded assets (jvm/asset_variants.py
 * says what each breaks): each bad artifact is one line on screen and one failed row with that line,
 * the others still run, and the app writes its results and finishes: no crash, no hang.
 */
@RunWith(Enclosed.class)
public class MainActivityBadAssetsTest {
    static JSONObject damage(String variant) throws Exception {
        String text = new String(Files.readAllBytes(AssetsVariant.inputs().resolve("assets").resolve("variants.json")),
                StandardCharsets.UTF_8);
        return new JSONObject(text).getJSONObject(variant);
    }

    static JSONObject row(JSONObject doc, String artifact) throws Exception {
        JSONArray rows = doc.getJSONArray("results");
        for (int k = 0; k < rows.length(); k++) if (rows.getJSONObject(k).getString("artifact").equals(artifact)) return rows.getJSONObject(k);
        throw new AssertionError("no row for " + artifact + " in " + doc);
    }

    /** The row failed with a one-line reason containing `says`, and the screen shows that line. */
    static void failedWith(JSONObject doc, String screen, String artifact, String says) throws Exception {
        JSONObject row = row(doc, artifact);
        String reason = row.optString("reason");
        assertEquals(artifact + ": " + row, "failed", row.getString("status"));
        assertTrue(artifact + ": " + reason, reason.contains(says));
        assertFalse(artifact + ": more than one line: " + reason, reason.contains("\n"));
        assertTrue(artifact + " not on screen: " + screen, screen.contains(artifact + ": FAILED " + reason));
    }

    static ActivityController<MainActivity> benchToTheEnd() {
        ActivityController<MainActivity> app = launch(true, 2, 10);
        await("finished benchmark", app, () -> app.get().isFinishing());
        return app;
    }

    @RunWith(AssetsVariant.class)
    @AssetsVariant.Name("broken")
    public static class CorruptMissingAndTampered {
        @Test
        public void eachIsOneLineAndTheRestRuns() throws Exception {
            JSONObject damage = damage("broken");
            ActivityController<MainActivity> app = benchToTheEnd();
            JSONObject doc = results(app.get());
            String screen = screen(app.get());
            assertEquals("ok", doc.getString("status"));
            failedWith(doc, screen, damage.getString("corrupt"), "is not a loadable ONNX model");
            failedWith(doc, screen, damage.getString("missing"), "is missing from the app's assets");
            failedWith(doc, screen, damage.getString("tampered"), "does not match the manifest's sha256");
            assertEquals("ok", row(doc, damage.getString("ok")).getString("status"));
        }
    }

    @RunWith(AssetsVariant.class)
    @AssetsVariant.Name("other-shape")
    public static class ArtifactsOfAnotherShape {
        @Test
        public void everyOnnxRowNamesBothShapes() throws Exception {
            String shape = damage("other-shape").getJSONArray("shape").toString();
            ActivityController<MainActivity> app = benchToTheEnd();
            JSONObject doc = results(app.get());
            String screen = screen(app.get());
            JSONArray rows = doc.getJSONArray("results");
            for (int k = 0; k < rows.length(); k++) {
                String name = rows.getJSONObject(k).getString("artifact");
                if (name.contains("_onnx_")) failedWith(doc, screen, name, "takes input shape");
            }
            assertTrue(doc.toString(), doc.toString().contains("the manifest says [1, 1, " + shape.split(",")[2].trim()));
        }
    }

    @RunWith(AssetsVariant.class)
    @AssetsVariant.Name("no-manifest")
    public static class NoManifest {
        @Test
        public void theAppSaysWhyItCannotStart() throws Exception {
            ActivityController<MainActivity> app = benchToTheEnd();
            JSONObject doc = results(app.get());
            assertEquals("failed", doc.getString("status"));
            String reason = doc.getString("reason");
            assertTrue(reason, reason.contains("manifest.json") && reason.contains("python -m export --embed"));
            assertFalse(reason, reason.contains("\n"));
            assertTrue(screen(app.get()), screen(app.get()).contains("Error: " + reason));
        }
    }
}
