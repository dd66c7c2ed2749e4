"""The Android project is complete and consistent with the manifest contract and the host command.

Gradle and the Android libraries cannot be fetched here, so this checks what can be checked
without them: dependencies at pinned versions, one launcher Activity, one runner per manifest
format the core declares, shape/normalization/names read from the manifest (no constants),
and a README that gives the commands the rest of the project uses."""
from __future__ import annotations

import re

from export.variant import Variant
from runtime.android import PACKAGE, RESULTS_NAME
from tests.mobile_demo.conftest import ANDROID

APP = ANDROID / "app"
SRC = APP / "src" / "main" / "java" / "org" / "mnistdeploy" / "demo"


def test_gradle_pins_the_official_runtimes():
    gradle = (APP / "build.gradle").read_text()
    assert re.search(r'"org\.pytorch:executorch-android:\d+\.\d+\.\d+"', gradle)
    assert re.search(r'"com\.microsoft\.onnxruntime:onnxruntime-android:\d+\.\d+\.\d+"', gradle)
    assert f'applicationId "{PACKAGE}"' in gradle and f'namespace "{PACKAGE}"' in gradle
    et = re.search(r'executorch-android:([\d.]+)"', gradle).group(1)
    assert f'VERSION = "{et}"' in (SRC / "ExecuTorchRunner.java").read_text(), "runtime label drifted from Gradle"
    assert 'include ":app"' in (ANDROID / "settings.gradle").read_text()


def test_one_launcher_activity():
    manifest = (APP / "src" / "main" / "AndroidManifest.xml").read_text()
    assert manifest.count("<activity") == 1 and 'android:name=".MainActivity"' in manifest
    assert "android.intent.category.LAUNCHER" in manifest


def test_one_runner_per_format_and_nothing_hard_coded():
    core = (SRC / "core" / "ModelRunner.java").read_text()
    formats = re.search(r'Arrays\.asList\(([^)]*)\)', core).group(1)
    assert formats.replace(" ", "") == '"executorch","onnx"'
    assert "implements ModelRunner" in (SRC / "ExecuTorchRunner.java").read_text()
    assert "implements ModelRunner" in (SRC / "OnnxRunner.java").read_text()
    activity = (SRC / "MainActivity.java").read_text()
    for needle in ("manifest.runnable(ModelRunner.FORMATS)", "manifest.normalization", "manifest.height",
                   "manifest.inputShape(1)", "manifest.classes", "manifest.inputName", "Verifier.verify",
                   f'"{RESULTS_NAME}"', '"bench"', "newSingleThreadExecutor"):
        assert needle in activity, f"MainActivity no longer uses {needle}"
    for constant in ("784", "28", "0.5f", "255f", '".pte"', '".onnx"', '"input"', '"logits"'):
        assert constant not in activity, f"MainActivity hard-codes {constant}: read it from the manifest"
    for path in SRC.rglob("*.java"):
        if "/core/" in str(path):
            assert "import android" not in path.read_text(), f"{path.name}: core must stay Android-free"


def test_readme_gives_the_commands():
    readme = (ANDROID / "README.md").read_text()
    for needle in ("python -m export --embed", "python -m runtime.android", "--es mode bench",
                   f"{PACKAGE}/.MainActivity", "run_jvm_tests.sh", "Android Studio", "assembleDebug",
                   "reports/device_results/android.json", Variant("executorch", "xnnpack").name):
        assert needle in readme, f"README.md lacks {needle}"
