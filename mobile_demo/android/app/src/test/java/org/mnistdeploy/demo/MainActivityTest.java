package org.mnistdeploy.demo;

import static org.junit.Assert.*;
import static org.mnistdeploy.demo.AppDriver.*;

import android.content.pm.PackageInfo;
import android.content.pm.PackageManager;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.mnistdeploy.demo.core.Manifest;
import org.mnistdeploy.demo.core.ModelRunner;
import org.robolectric.RobolectricTestRunner;
import org.robolectric.android.controller.ActivityController;

/**
 * The real MainActivity on Robolectric with the embedded assets (check.sh test's resource APK) and
 * the desktop onnxruntime: start-up verification, bench mode to its results file, a recreate during
 * bench mode, a destroy while loading, and the merged manifest. ExecuTorch's native library exists
 * for no desktop JVM, so every .pte row is the app's "not available" line while the ONNX rows run.
 */
@RunWith(RobolectricTestRunner.class)
public class MainActivityTest {
    private static Manifest manifest(MainActivity activity) throws Exception {
        try (InputStream in = activity.getAssets().open("manifest.json")) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return Manifest.parse(b.toString(StandardCharsets.UTF_8));
        }
    }

    private static boolean loaded(MainActivity a) {
        return !screen(a).contains("Loading and verifying");
    }

    @Test
    public void startUpVerifiesEveryEmbeddedArtifact() throws Exception {
        ActivityController<MainActivity> app = launch(false, 0, 0);
        await("verification lines", app, () -> loaded(app.get()));
        String screen = screen(app.get());
        List<Manifest.Artifact> runnable = manifest(app.get()).runnable(ModelRunner.FORMATS);
        int onnx = 0;
        for (Manifest.Artifact a : runnable) {
            if (a.format.equals("onnx")) {
                onnx++;
                assertTrue(a.name + " not verified; screen: " + screen, screen.contains(a.name + ": PASS"));
            } else {
                assertTrue(a.name + ": no clear line; screen: " + screen,
                        screen.contains(a.name + ": FAILED executorch-android is not available on this device"));
            }
        }
        assertTrue("no ONNX artifact embedded: nothing ran", onnx > 0);
        app.pause().stop().destroy();
    }

    @Test
    public void benchModeWritesOneResultsDocumentAndFinishes() throws Exception {
        ActivityController<MainActivity> app = launch(true, 5, 50);
        await("finished benchmark", app, () -> app.get().isFinishing());
        JSONObject doc = results(app.get());
        assertEquals("android", doc.getString("target"));
        assertEquals("ok", doc.getString("status"));
        assertEquals(50, doc.getJSONObject("method").getInt("iterations"));
        JSONArray rows = doc.getJSONArray("results");
        List<Manifest.Artifact> runnable = manifest(app.get()).runnable(ModelRunner.FORMATS);
        assertEquals(runnable.size(), rows.length());
        for (int k = 0; k < rows.length(); k++) {
            JSONObject row = rows.getJSONObject(k);
            String name = row.getString("artifact");
            if (name.contains("_onnx_")) {
                assertEquals(name + ": " + row, "ok", row.getString("status"));
                assertTrue(name, row.getJSONObject("verification").getBoolean("passed"));
                for (String key : Arrays.asList("load_ms", "first_ms", "p50_us", "p99_us")) {
                    assertTrue(name + " " + key, row.getDouble(key) > 0);
                }
            } else {
                assertEquals(name, "failed", row.getString("status"));
                assertTrue(row.getString("reason"), row.getString("reason").startsWith("executorch-android is not available on this device"));
            }
        }
        assertEquals(1, logged("benchmark started"));
        assertEquals(1, logged("results written"));
        // The Python tests read this copy with the host's own reader (runtime/android.py).
        Files.copy(resultsFile(app.get()).toPath(), AssetsVariant.inputs().resolve("results").resolve("benchmark_results.json"),
                StandardCopyOption.REPLACE_EXISTING);
        app.pause().stop().destroy();
        await("runners closed", app, () -> logged("closed ") == logged("opened "));
    }

    @Test
    public void aRecreateDuringBenchModeRunsOneBenchmark() throws Exception {
        ActivityController<MainActivity> app = launch(true, 100, 3000);
        await("benchmark start", app, () -> logged("benchmark started") > 0);
        app.recreate();  // a configuration change: dark mode, locale, a fold, multi-window
        await("finished benchmark", app, () -> app.get().isFinishing());
        assertEquals("benchmarks started", 1, logged("benchmark started"));
        assertEquals("results files written", 1, logged("results written"));
        assertEquals("ok", results(app.get()).getString("status"));
    }

    @Test
    public void aDestroyWhileLoadingClosesEveryRunner() throws InterruptedException {
        ActivityController<MainActivity> app = launch(false, 0, 0);
        long deadline = System.nanoTime() + DEADLINE_S * 1_000_000_000L;
        while (logged("opened ") == 0 && System.nanoTime() < deadline) Thread.sleep(1);  // the looper stays paused: nothing is shown yet
        assertTrue("no runner opened", logged("opened ") > 0);
        app.pause().stop().destroy();
        await("every opened runner closed", app, () -> logged("closed ") == logged("opened ") && logged("worker stopped") == 1);
        assertEquals(loggedNames("opened "), loggedNames("closed "));
    }

    @Test
    public void theMergedManifestAsksForNoNetworkAndStartsNoTelemetry() throws Exception {
        ActivityController<MainActivity> app = launch(false, 0, 0);
        PackageInfo info = app.get().getPackageManager().getPackageInfo(app.get().getPackageName(),
                PackageManager.GET_PERMISSIONS | PackageManager.GET_PROVIDERS);
        List<String> permissions = info.requestedPermissions == null ? List.of() : Arrays.asList(info.requestedPermissions);
        assertFalse(permissions.toString(), permissions.contains("android.permission.INTERNET"));
        assertFalse(permissions.toString(), permissions.contains("android.permission.ACCESS_NETWORK_STATE"));
        assertTrue("providers: " + Arrays.toString(info.providers), info.providers == null || info.providers.length == 0);
        await("verification lines", app, () -> loaded(app.get()));
        app.pause().stop().destroy();
    }
}
