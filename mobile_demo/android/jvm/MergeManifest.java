import com.android.manifmerger.ManifestMerger2;
import com.android.manifmerger.ManifestSystemProperty;
import com.android.manifmerger.MergingReport;
import com.android.utils.StdLogger;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * The merged manifest of the app, as AGP makes it: the Android Gradle plugin's own merger
 * (com.android.tools.build:manifest-merger) on the app's manifest and each library's, with
 * app/build.gradle's package and SDK levels, and the tools: instructions (tools:node="remove")
 * applied and then dropped, as in the manifest aapt2 packages.
 *
 *   java -cp MERGER_CLASSPATH MergeManifest.java APP_MANIFEST LIBRARY_MANIFEST OUT PACKAGE MIN_SDK TARGET_SDK
 */
public final class MergeManifest {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) throw new IllegalArgumentException("usage: APP LIBRARY OUT PACKAGE MIN_SDK TARGET_SDK");
        StdLogger log = new StdLogger(StdLogger.Level.WARNING);
        MergingReport report = ManifestMerger2.newMerger(new File(args[0]), log, ManifestMerger2.MergeType.APPLICATION)
                .addLibraryManifest(new File(args[1]))
                .setOverride(ManifestSystemProperty.PACKAGE, args[3])
                .setOverride(ManifestSystemProperty.MIN_SDK_VERSION, args[4])
                .setOverride(ManifestSystemProperty.TARGET_SDK_VERSION, args[5])
                .withFeatures(ManifestMerger2.Invoker.Feature.REMOVE_TOOLS_DECLARATIONS)
                .merge();
        String merged = report.getMergedDocument(MergingReport.MergedManifestKind.MERGED);
        if (report.getResult().isError() || merged == null) {
            report.log(log);
            System.exit(1);
        }
        Files.write(Paths.get(args[2]), merged.getBytes(StandardCharsets.UTF_8));
    }
}
