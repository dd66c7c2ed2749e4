package org.mnistdeploy.demo;

import static org.junit.Assert.fail;
import static org.robolectric.Shadows.shadowOf;

import android.content.Intent;
import android.os.Looper;
import android.view.View;
import android.view.ViewGroup;
import android.widget.TextView;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.json.JSONObject;
import org.mnistdeploy.demo.core.Benchmark;
import org.robolectric.Robolectric;
import org.robolectric.android.controller.ActivityController;
import org.robolectric.shadows.ShadowLog;

/**
 * Drives the real MainActivity under Robolectric: launches it as `adb shell am start` would, lets
 * the main looper run what the worker thread posts, and reads the screen, the log and the results.
 * Every wait has a deadline, so a hang fails the test with what was on screen.
 */
final class AppDriver {
    static final int DEADLINE_S = 120;

    private AppDriver() {}

    static ActivityController<MainActivity> launch(boolean bench, int warmup, int iterations) {
        Intent intent = new Intent(Intent.ACTION_MAIN);
        if (bench) intent.putExtra("mode", "bench").putExtra("warmup", warmup).putExtra("iterations", iterations);
        return Robolectric.buildActivity(MainActivity.class, intent).setup();
    }

    /** Run the main looper until done() holds; fail with the screen's text at the deadline. */
    static void await(String what, ActivityController<MainActivity> app, BooleanSupplier done) {
        long deadline = System.nanoTime() + DEADLINE_S * 1_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no " + what + " after " + DEADLINE_S + " s; screen: " + screen(app.get()));
            }
            shadowOf(Looper.getMainLooper()).idle();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        shadowOf(Looper.getMainLooper()).idle();
    }

    /** Every TextView's text on the activity's screen, one per line. */
    static String screen(MainActivity activity) {
        List<String> lines = new ArrayList<>();
        collect(activity.getWindow().getDecorView(), lines);
        return String.join("\n", lines);
    }

    private static void collect(View v, List<String> lines) {
        if (v instanceof TextView && ((TextView) v).getText().length() > 0) lines.add(((TextView) v).getText().toString());
        if (v instanceof ViewGroup) {
            ViewGroup g = (ViewGroup) v;
            for (int k = 0; k < g.getChildCount(); k++) collect(g.getChildAt(k), lines);
        }
    }

    /** How many of the app's log lines (tag MnistDemo) start with prefix. */
    static long logged(String prefix) {
        return ShadowLog.getLogsForTag(MainActivity.TAG).stream().filter(l -> l.msg.startsWith(prefix)).count();
    }

    static List<String> loggedNames(String prefix) {
        List<String> names = new ArrayList<>();
        for (ShadowLog.LogItem l : ShadowLog.getLogsForTag(MainActivity.TAG)) {
            if (l.msg.startsWith(prefix)) names.add(l.msg.substring(prefix.length()));
        }
        return names;
    }

    /** Where the app writes its results: app-specific external files, which `adb pull` reads on any build. */
    static File resultsFile(MainActivity activity) {
        return new File(activity.getExternalFilesDir(null), Benchmark.RESULTS_NAME);
    }

    static JSONObject results(MainActivity activity) throws Exception {
        return new JSONObject(new String(Files.readAllBytes(resultsFile(activity).toPath()), StandardCharsets.UTF_8));
    }
}
