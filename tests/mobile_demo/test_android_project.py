"""The Android project is complete and consistent with the manifest contract and the host command.

Gradle cannot run here (no Gradle distribution, no Google Maven); `make android-check` compiles
the sources against the real jars. This checks the rest: versions in one catalog that the build
uses, a pinned Gradle wrapper, one launcher Activity, one runner per manifest format the core
declares, and a README that gives the commands the rest of the project uses. What the app's
core reads and declares is checked by running it (Cli on the JVM) against what the export and
embed write: the formats it runs, its results file, and shape/normalization/names from the manifest."""
from __future__ import annotations

import json
import re
import subprocess
import tomllib

import numpy as np

from export.manifest import SCHEMA_VERSION
from export.variant import Variant
from mobile_demo.preprocess import to_input
from runtime.android import PACKAGE, RESULTS_NAME
from tests.mobile_demo.conftest import ANDROID, write_pgm

APP = ANDROID / "app"
SRC = APP / "src" / "main" / "java" / "org" / "mnistdeploy" / "demo"


CATALOG = ANDROID / "gradle" / "libs.versions.toml"


def test_versions_live_in_the_catalog_the_build_uses():
    catalog = tomllib.loads(CATALOG.read_text())
    versions, libraries = catalog["versions"], catalog["libraries"]
    assert libraries["executorch-android"]["module"] == "org.pytorch:executorch-android"
    assert libraries["onnxruntime-android"]["module"] == "com.microsoft.onnxruntime:onnxruntime-android"
    assert libraries["onnxruntime-jvm"]["version"]["ref"] == libraries["onnxruntime-android"]["version"]["ref"], \
        "the JVM tests must run the onnxruntime version the app ships"
    for name in versions:  # check.sh reads the catalog line by line: one plain `name = "value"` each
        assert re.search(rf'^{re.escape(name)} = "[^"]+"$', CATALOG.read_text(), re.M), name
    gradle = (APP / "build.gradle").read_text()
    assert "libs.executorch.android" in gradle and "libs.onnxruntime.android" in gradle
    assert not re.search(r'["\'][\w.-]+:[\w.-]+:\d', gradle), "a dependency bypasses the version catalog"
    assert "alias(libs.plugins.android.application)" in (ANDROID / "build.gradle").read_text()
    assert f'applicationId "{PACKAGE}"' in gradle and f'namespace "{PACKAGE}"' in gradle
    assert f'VERSION = "{versions["executorch"]}"' in (SRC / "ExecuTorchRunner.java").read_text(), \
        "runtime label drifted from the catalog"
    assert 'include ":app"' in (ANDROID / "settings.gradle").read_text()


def test_what_an_android_developer_opens():
    """./gradlew (it names the one command that makes the wrapper jar, which Gradle writes and this
    repository does not carry), per-machine files ignored, R8 rules for the runtimes' JNI classes."""
    gradlew = ANDROID / "gradlew"
    assert gradlew.stat().st_mode & 0o111 and (ANDROID / "gradlew.bat").is_file()
    if not (ANDROID / "gradle" / "wrapper" / "gradle-wrapper.jar").exists():
        done = subprocess.run([str(gradlew), "assembleDebug"], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 1 and "gradle wrapper --gradle-version 8.9" in done.stderr, done.stderr
        assert "gradle wrapper --gradle-version 8.9" in (ANDROID / "README.md").read_text()
    ignored = (ANDROID / ".gitignore").read_text().split()
    assert {".idea/", "local.properties", ".gradle/"} <= set(ignored)
    rules = (APP / "proguard-rules.pro").read_text()
    assert "-keep class ai.onnxruntime.** { *; }" in rules
    assert '"proguard-rules.pro"' in (APP / "build.gradle").read_text()


def test_gradle_wrapper_is_pinned_to_a_version_agp_supports():
    agp = tomllib.loads(CATALOG.read_text())["versions"]["agp"]
    props = (ANDROID / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text()
    gradle = re.search(r"distributions/gradle-(\d+)\.(\d+)(?:\.\d+)?-bin\.zip", props)
    assert gradle, props
    assert agp.startswith("8.7."), "recheck the Gradle minimum for this AGP (its compatibility table)"
    assert tuple(map(int, gradle.groups())) >= (8, 9), "AGP 8.7 needs Gradle 8.9 or newer"


def test_the_platform_json_and_no_test_code_in_the_app():
    assert not (SRC / "core" / "Json.java").exists(), "Android ships org.json: no parser of our own"
    assert not (SRC / "core" / "Cli.java").exists(), "Cli is test code: app/src/test"
    assert (APP / "src" / "test" / "java" / "org" / "mnistdeploy" / "demo" / "core" / "Cli.java").is_file()
    assert "extractNativeLibs" not in (APP / "src" / "main" / "AndroidManifest.xml").read_text(), \
        "AGP 8 warns on it, AGP 9 refuses it; false is the default since AGP 3.6"


def test_one_launcher_activity():
    manifest = (APP / "src" / "main" / "AndroidManifest.xml").read_text()
    assert manifest.count("<activity") == 1 and 'android:name=".MainActivity"' in manifest
    assert "android.intent.category.LAUNCHER" in manifest


def test_one_runner_per_format_and_the_activity_reads_the_manifest():
    assert "implements ModelRunner" in (SRC / "ExecuTorchRunner.java").read_text()
    assert "implements ModelRunner" in (SRC / "OnnxRunner.java").read_text()
    app = "".join((SRC / name).read_text() for name in ("MainActivity.java", "Models.java", "Results.java",
                                                          "core/LoadedArtifact.java"))
    for needle in ("manifest.runnable(ModelRunner.FORMATS)", "manifest.normalization", "manifest.height",
                   "inputShape(1)", "manifest.classes", "m.inputName", "Verifier.verify",
                   "Benchmark.RESULTS_NAME", '"bench"', "newSingleThreadExecutor", "onRetainNonConfigurationInstance"):
        assert needle in app, f"the app no longer uses {needle}"
    for path in SRC.rglob("*.java"):
        if "/core/" in str(path):
            assert "import android" not in path.read_text(), f"{path.name}: core must stay Android-free"


def test_the_app_runs_every_artifact_the_embed_ships_and_names_its_results_as_the_host_reads_them(
        java_cli, embedded):
    manifest = embedded.manifest(embedded.assets)
    constants = java_cli("constants")
    assert sorted(constants["formats"]) == sorted({a["format"] for a in manifest["artifacts"]})
    assert constants["results_name"] == RESULTS_NAME, "runtime/android.py would pull a file the app never writes"
    assert constants["schema_version"] == SCHEMA_VERSION == manifest["schema_version"]
    runnable = java_cli("manifest", str(embedded.assets / "manifest.json"))["runnable"]
    assert [a["name"] for a in runnable] == embedded.names


def test_the_core_takes_shape_normalization_and_names_from_the_manifest(java_cli, embedded, tmp_path):
    """A manifest unlike MNIST's (32x32, other statistics and names): the core follows it, so it holds
    no 28, 0.5 or "input" of its own."""
    manifest = embedded.manifest(embedded.assets)
    norm = {"scale": 255.0, "mean": [0.1307], "std": [0.3081]}
    manifest["input"].update(name="pixels", shape=["batch", 1, 32, 32], normalization=norm)
    manifest["dataset"]["classes"] = list("abcdefghij")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    got = java_cli("manifest", str(path))
    assert (got["input_name"], got["input_shape"], got["classes"]) == ("pixels", [1, 1, 32, 32], list("abcdefghij"))
    assert got["normalization"] == {"scale": 255.0, "mean": 0.1307, "std": 0.3081}
    gray = np.zeros((60, 40), dtype=np.uint8)
    gray[10:50, 15:25] = 255
    x = java_cli("preprocess", str(write_pgm(tmp_path / "bar.pgm", gray)), str(path))["input"]
    assert np.array_equal(np.asarray(x, dtype=np.float32), to_input(gray, manifest).ravel())


def test_readme_gives_the_commands():
    readme = (ANDROID / "README.md").read_text()
    for needle in ("python -m export --embed", "python -m runtime.android", "--es mode bench",
                   f"{PACKAGE}/.MainActivity", "check.sh", "Android Studio", "assembleDebug", "./gradlew",
                   "reports/device_results/android-", "libs.versions.toml", "make android-check",
                   "NOT CHECKED", "Not done here", Variant("executorch", "xnnpack").name):
        assert needle in readme, f"README.md lacks {needle}"
