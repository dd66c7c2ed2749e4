"""The Android app's Android-free classes on the JDK: the JUnit suite under Maven Surefire, including
the app's own OnnxRunner and Verifier on every embedded ONNX artifact (desktop onnxruntime)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.mobile_demo.conftest import MAVEN_BUILD


def _report(name: str) -> ET.Element:
    return ET.parse(MAVEN_BUILD / "surefire-reports" / f"TEST-{name}.xml").getroot()


def test_junit_suite_passes(jvm_run):
    out = jvm_run.stdout + jvm_run.stderr
    assert jvm_run.returncode == 0, out[-4000:]
    totals = re.findall(r"^\[INFO\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)$", out, re.M)
    assert totals, f"no Surefire summary in the output: {out[-2000:]}"
    run, failures, errors, skipped = map(int, totals[-1])
    assert (failures, errors, skipped) == (0, 0, 0)
    assert run >= 30, "the JUnit suite shrank: every core class must stay tested"


def test_every_embedded_onnx_artifact_verified_on_the_jvm(jvm_run, embedded):
    assert jvm_run.returncode == 0, (jvm_run.stdout + jvm_run.stderr)[-4000:]
    suite = _report("org.mnistdeploy.demo.OnnxRunnerTest")
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    ran = {case.get("name") for case in suite.iter("testcase")}
    assert {"everyEmbeddedOnnxArtifactVerifies", "aTruncatedModelIsAClearError",
            "aModelOfAnotherShapeIsRefusedAtLoad"} <= ran
    onnx = [n for n in embedded.names if "_onnx_" in n]
    assert onnx, "the default embed has no ONNX artifact: the JVM run checked nothing"
