"""The Android app on the JDK: the JUnit suite under Maven Surefire (the core, the app's own
OnnxRunner and Verifier on every embedded ONNX artifact on the desktop onnxruntime), then the real
MainActivity under Robolectric, whose results document the host's own reader parses, and the
merged manifest the Robolectric run packaged."""
from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

from runtime.android import parse_results
from runtime import device_results
from runtime.manifest import read_manifest
from tests.mobile_demo.conftest import ANDROID, MAVEN_BUILD, ROBOLECTRIC

ANDROID_NS = "{http://schemas.android.com/apk/res/android}"


def _report(name: str) -> ET.Element:
    return ET.parse(MAVEN_BUILD / "surefire-reports" / f"TEST-{name}.xml").getroot()


def test_junit_suite_passes(jvm_run):
    out = jvm_run.stdout + jvm_run.stderr
    assert jvm_run.returncode == 0, out[-4000:]
    totals = re.findall(r"^\[INFO\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)$", out, re.M)
    assert len(totals) == 2, f"expected the plain and the Robolectric Surefire summaries: {out[-2000:]}"
    (plain, *plain_bad), (robolectric, *robo_bad) = [tuple(map(int, t)) for t in totals]
    assert plain_bad == robo_bad == [0, 0, 0]
    assert plain >= 40, "the JUnit suite shrank: every core class must stay tested"
    assert robolectric >= 8, "the Robolectric tests of MainActivity shrank"


def test_the_real_main_activity_ran_under_robolectric(jvm_run):
    assert jvm_run.returncode == 0, (jvm_run.stdout + jvm_run.stderr)[-4000:]
    ran = {}
    for suite in ("MainActivityTest", "MainActivityBadAssetsTest"):
        report = _report(f"org.mnistdeploy.demo.{suite}")
        assert (report.get("failures"), report.get("errors"), report.get("skipped")) == ("0", "0", "0"), suite
        ran.update({case.get("name"): case.get("classname") for case in report.iter("testcase")})
    assert {"startUpVerifiesEveryEmbeddedArtifact", "benchModeWritesOneResultsDocumentAndFinishes",
            "aRecreateDuringBenchModeRunsOneBenchmark", "aDestroyWhileLoadingClosesEveryRunner",
            "theMergedManifestAsksForNoNetworkAndStartsNoTelemetry", "eachIsOneLineAndTheRestRuns",
            "everyOnnxRowNamesBothShapes", "theAppSaysWhyItCannotStart"} <= set(ran), ran


def test_the_apps_results_are_read_by_the_hosts_reader(jvm_run, embedded, tmp_path):
    """What MainActivity wrote in bench mode under Robolectric, through runtime.android's reader and
    into the latency report's android rows, as a phone's results would go."""
    assert jvm_run.returncode == 0, (jvm_run.stdout + jvm_run.stderr)[-4000:]
    text = (ROBOLECTRIC / "results" / "benchmark_results.json").read_text()
    doc = parse_results(text)
    manifest = embedded.manifest(embedded.assets)
    rows = {r["artifact"]: r for r in doc["results"]}
    assert sorted(rows) == sorted(a["name"] for a in manifest["artifacts"])
    for a in manifest["artifacts"]:
        r = rows[a["name"]]
        assert r["sha256"] == a["sha256"]
        if a["format"] == "onnx":
            assert r["status"] == "ok" and r["verification"]["passed"] and 0 < r["p50_us"] <= r["p99_us"], r
        else:  # no ExecuTorch runtime for a desktop JVM: the app's clear row, the others still ran
            assert r["status"] == "failed" and r["reason"].startswith("executorch-android is not available"), r
    (tmp_path / "android-robolectric.json").write_text(text)
    docs = device_results.load("android", tmp_path)
    report_rows, _ = device_results.device_rows("android", read_manifest(embedded.source), docs)
    assert sorted((r.artifact, r.status) for r in report_rows) == sorted(
        (name, r["status"]) for name, r in rows.items())


def _permissions_and_providers(path) -> tuple[set[str], set[str]]:
    root = ET.parse(path).getroot()
    return ({e.get(f"{ANDROID_NS}name") for e in root.iter("uses-permission")},
            {e.get(f"{ANDROID_NS}name") for e in root.iter("provider")})


def test_the_merged_manifest_asks_for_no_network_and_starts_no_telemetry(jvm_run, tmp_path):
    """check.sh merged the app's manifest with onnxruntime-android's through AGP's manifest merger;
    the same merge without the app's tools:node="remove" lines shows what they remove."""
    assert jvm_run.returncode == 0, (jvm_run.stdout + jvm_run.stderr)[-4000:]
    permissions, providers = _permissions_and_providers(ROBOLECTRIC / "AndroidManifest.xml")
    assert not {"android.permission.INTERNET", "android.permission.ACCESS_NETWORK_STATE"} & permissions
    assert "ai.onnxruntime.TelemetryInitializer" not in providers
    app = (ROBOLECTRIC / "app-manifest.xml").read_text()
    keep = tmp_path / "no-removes.xml"
    keep.write_text("\n".join(line for line in app.splitlines() if 'tools:node="remove"' not in line))
    classpath = (ROBOLECTRIC / "merger-classpath.txt").read_text().strip()
    subprocess.run([shutil.which("java"), "-cp", classpath, str(ANDROID / "jvm" / "MergeManifest.java"), str(keep),
                    str(ANDROID / "jvm" / "onnxruntime-android-manifest.xml"), str(tmp_path / "merged.xml"),
                    "org.mnistdeploy.demo", "26", "35"], check=True, timeout=120)
    permissions, providers = _permissions_and_providers(tmp_path / "merged.xml")
    assert "android.permission.INTERNET" in permissions and "ai.onnxruntime.TelemetryInitializer" in providers


def test_every_embedded_onnx_artifact_verified_on_the_jvm(jvm_run, embedded):
    assert jvm_run.returncode == 0, (jvm_run.stdout + jvm_run.stderr)[-4000:]
    suite = _report("org.mnistdeploy.demo.OnnxRunnerTest")
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    ran = {case.get("name") for case in suite.iter("testcase")}
    assert {"everyEmbeddedOnnxArtifactVerifies", "aTruncatedModelIsAClearError",
            "aModelOfAnotherShapeIsRefusedAtLoad"} <= ran
    onnx = [n for n in embedded.names if "_onnx_" in n]
    assert onnx, "the default embed has no ONNX artifact: the JVM run checked nothing"
