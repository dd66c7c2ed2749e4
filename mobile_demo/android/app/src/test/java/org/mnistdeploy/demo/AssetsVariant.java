package org.mnistdeploy.demo;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import org.junit.runners.model.InitializationError;
import org.robolectric.RobolectricTestRunner;

/**
 * Robolectric with the resource APK of a broken copy of the assets (check.sh test links one per
 * variant of jvm/asset_variants.py): a test class annotated @AssetsVariant.Name("broken") runs the
 * app as if those assets were embedded. Robolectric takes the APK from test_config.properties (the
 * build system's hand-over), so this runner hands over another one.
 */
public final class AssetsVariant extends RobolectricTestRunner {
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    public @interface Name {
        String value();
    }

    public AssetsVariant(Class<?> testClass) throws InitializationError {
        super(testClass);
    }

    /** check.sh test's folder of Robolectric inputs (the system property mnist.robolectric). */
    static Path inputs() {
        String dir = System.getProperty("mnist.robolectric");
        if (dir == null) throw new IllegalStateException("mnist.robolectric is not set: run `bash check.sh test`");
        return Paths.get(dir);
    }

    @Override
    protected Properties getBuildSystemApiProperties() {
        Name name = getTestClass().getJavaClass().getAnnotation(Name.class);
        if (name == null) throw new IllegalStateException(getTestClass().getName() + " lacks @AssetsVariant.Name");
        Properties p = new Properties();
        p.putAll(super.getBuildSystemApiProperties());
        p.setProperty("android_resource_apk", inputs().resolve("apk").resolve(name.value() + ".apk").toString());
        p.setProperty("android_merged_assets", inputs().resolve("assets").resolve(name.value()).toString());
        return p;
    }
}
