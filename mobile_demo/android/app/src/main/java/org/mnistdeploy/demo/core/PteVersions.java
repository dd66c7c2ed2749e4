package org.mnistdeploy.demo.core;

/**
 * Which .pte files an ExecuTorch runtime reads. ExecuTorch promises backward compatibility only
 * (runtime/COMPATIBILITY.md in its repository): a runtime loads .pte files written by its own
 * release and older ones; a newer exporter's file may or may not load. The app names both versions
 * when a load fails, so the fix (re-export, or a newer executorch-android) is obvious.
 */
public final class PteVersions {
    private PteVersions() {}

    /** True when the exporter's major.minor is newer than the runtime's: no guarantee either way. */
    public static boolean exporterIsNewer(String exporter, String runtime) {
        if (exporter == null) return false;
        int[] e = majorMinor(exporter), r = majorMinor(runtime);
        return e[0] != r[0] ? e[0] > r[0] : e[1] > r[1];
    }

    /** The one-line error for a .pte the runtime refused; detail is the runtime's own message. */
    public static String loadError(String file, String exporter, String runtime, String detail) {
        String from = exporter == null ? "an executorch version the manifest does not record" : "executorch " + exporter;
        String fix = exporterIsNewer(exporter, runtime)
                ? "the file is newer than the runtime (ExecuTorch guarantees only that newer runtimes read older files): "
                  + "set executorch in gradle/libs.versions.toml to the exporter's release, or export with executorch "
                  + majorMinorText(runtime) + ".x"
                : "re-run `python -m export --embed` and rebuild the app";
        return "executorch-android " + runtime + " cannot load " + file + ", written by " + from + " (" + detail
                + "); " + fix;
    }

    static int[] majorMinor(String version) {
        String[] parts = version.split("[.+-]");
        try {
            return new int[] {Integer.parseInt(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : 0};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a version: \"" + version + "\"", e);
        }
    }

    private static String majorMinorText(String version) {
        int[] v = majorMinor(version);
        return v[0] + "." + v[1];
    }
}
