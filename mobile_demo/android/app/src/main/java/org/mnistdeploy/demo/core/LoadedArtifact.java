package org.mnistdeploy.demo.core;

/**
 * An artifact loaded the way docs/performance.md defines it: the runtime opens the file (load_ms),
 * the first call on that fresh load is timed on its own (first_ms, test vector 0), then the
 * artifact is verified on the test vectors. Anything the artifact does wrong (a file the runtime
 * refuses, another input shape, an exception in a call, a runtime whose native library did not
 * load) becomes its one-line error, and the runner, if it opened, is closed.
 */
public final class LoadedArtifact {
    /** Opens the artifact's file with its runtime; what it costs is load_ms. */
    public interface Opener {
        ModelRunner open() throws Exception;
    }

    public final Manifest.Artifact artifact;
    /** Null when the artifact failed. */
    public final ModelRunner runner;
    public final double loadMs, firstMs;
    public final Verifier.Result verification;
    /** Null when the artifact loaded and verification ran (passed or not). */
    public final String error;

    private LoadedArtifact(Manifest.Artifact artifact, ModelRunner runner, double loadMs, double firstMs,
                           Verifier.Result verification, String error) {
        this.artifact = artifact;
        this.runner = runner;
        this.loadMs = loadMs;
        this.firstMs = firstMs;
        this.verification = verification;
        this.error = error;
    }

    /** An artifact that failed before its runtime could open it (e.g. its file is missing). */
    public static LoadedArtifact failed(Manifest.Artifact a, String error) {
        return new LoadedArtifact(a, null, Double.NaN, Double.NaN, null, error);
    }

    public static LoadedArtifact load(Manifest.Artifact a, Opener opener, Manifest m, TestVectors tv) {
        ModelRunner runner = null;
        try {
            long t0 = System.nanoTime();
            runner = opener.open();
            double loadMs = (System.nanoTime() - t0) / 1e6;
            long t1 = System.nanoTime();
            runner.run(tv.input(0), m.inputShape(1));
            double firstMs = (System.nanoTime() - t1) / 1e6;
            Verifier.Result v = Verifier.verify(runner, m, tv, !a.quantization.equals("none"));
            return new LoadedArtifact(a, runner, loadMs, firstMs, v, null);
        } catch (Exception | LinkageError e) {  // LinkageError: the runtime's native library did not load
            if (runner != null) runner.close();
            return failed(a, reason(a, e));
        }
    }

    /** One line: the runtime's own message, or what a missing native library means here. */
    static String reason(Manifest.Artifact a, Throwable e) {
        String message = String.valueOf(e.getMessage()).replaceAll("\\s+", " ").trim();
        if (e instanceof LinkageError) {
            return runtimeOf(a) + " is not available on this device (" + e.getClass().getSimpleName() + ": " + message
                    + "); the other runtimes' artifacts still run";
        }
        return e instanceof IllegalArgumentException || e instanceof IllegalStateException
                ? message : e.getClass().getSimpleName() + ": " + message;
    }

    private static String runtimeOf(Manifest.Artifact a) {
        return a.format.equals("executorch") ? "executorch-android" : a.format.equals("onnx") ? "onnxruntime-android" : a.format;
    }

    public boolean ok() { return error == null; }
}
