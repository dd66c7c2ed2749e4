"""The web demo in headless Chromium: a digit drawn with pointer events is classified as Python
classifies the same drawing, and the benchmark mode writes valid browser-wasm results."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import onnxruntime as ort

from mobile_demo.preprocess import to_input
from runtime.android import validate_device_results
from runtime import device_results
from runtime.manifest import read_manifest
from tests.conftest import require
from tests.mobile_demo.conftest import CHROMIUM, WEB, write_pgm

DIGIT = 0  # test vector 0: a "7" (index 0 of the MNIST test set)


def _drive(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(["node", str(WEB / "bench.mjs"), *args], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def test_drawn_digit_is_classified_as_python_classifies_it(web_tools, java_cli, embedded, tmp_path):
    vectors = json.loads((embedded.models / "test_vectors.json").read_text())
    image = tmp_path / "digit.json"
    image.write_text(json.dumps({"pixels": vectors["pixels"][DIGIT]}))
    _drive("draw", "--image", str(image), "--out", str(tmp_path / "drawn.json"), "--models", str(embedded.models))
    drawn = json.loads((tmp_path / "drawn.json").read_text())
    d = drawn["drawing"]
    gray = np.asarray(d["gray"], dtype=np.uint8).reshape(d["height"], d["width"])
    assert drawn["strokes"] >= 5 and (gray > 0).mean() > 0.02, "the synthesized strokes left no drawing"
    manifest = embedded.manifest(embedded.models)
    x = to_input(gray, manifest)
    java = java_cli("preprocess", str(write_pgm(tmp_path / "drawn.pgm", gray)), str(embedded.models / "manifest.json"))
    assert np.array_equal(np.asarray(java["input"], dtype=np.float32), x.ravel()), "Java saw another tensor"
    by_name = {a["name"]: a for a in manifest["artifacts"]}
    assert [p["artifact"] for p in drawn["predictions"]] == list(by_name)
    for p in drawn["predictions"]:
        assert np.array_equal(np.asarray(p["input"], dtype=np.float32), x.ravel()), p["artifact"]
        session = ort.InferenceSession(str(embedded.models / by_name[p["artifact"]]["path"]))
        python_class = int(session.run(None, {manifest["input"]["name"]: x})[0].argmax())
        assert p["predicted"] == python_class, p["artifact"]
        if by_name[p["artifact"]]["quantization"] == "none":
            assert python_class == vectors["labels"][DIGIT], "the drawn digit no longer reads as its label"
    # first_ms is the first call on the fresh load, timed before verification; a later benchmark of
    # the same page reports that figure, not a call after the 32 verification runs.
    assert [a["artifact"] for a in drawn["loaded"]] == list(by_name)
    assert all(a["first_ms"] > 0 for a in drawn["loaded"]), drawn["loaded"]
    assert drawn["bench_first_ms"] == [a["first_ms"] for a in drawn["loaded"]]


def test_benchmark_mode_writes_valid_browser_results(web_tools, embedded, tmp_path):
    out = tmp_path / "browser-wasm.json"
    _drive("bench", "--warmup", "5", "--iterations", "30", "--out", str(out), "--models", str(embedded.models))
    doc = validate_device_results(json.loads(out.read_text()), "browser-wasm")
    version = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=True).stdout
    assert doc["device"]["browser"].startswith("Chromium ") and doc["device"]["browser"].split()[1] in version
    assert doc["method"] | {"clock": None} == {"warmup": 5, "iterations": 30, "batch": 1, "threads": 1, "clock": None}
    manifest = embedded.manifest(embedded.models)
    assert [r["artifact"] for r in doc["results"]] == [a["name"] for a in manifest["artifacts"]]
    for r, a in zip(doc["results"], manifest["artifacts"]):
        assert r["status"] == "ok" and r["sha256"] == a["sha256"], r
        assert r["verification"]["passed"] and r["verification"]["count"] == manifest["test_vectors"]["count"], r
        assert 0 < r["p50_us"] <= r["p90_us"] <= r["p99_us"]
    # The latency report reads it as fresh browser-wasm rows of the export it came from.
    docs = device_results.load("browser-wasm", tmp_path)
    rows, info = device_results.device_rows("browser-wasm", read_manifest(embedded.source), docs)
    assert [(r.artifact, r.status) for r in rows] == [(a["name"], "ok") for a in manifest["artifacts"]]
    assert info["device"]["browser"] == doc["device"]["browser"]


def test_the_bench_without_its_npm_packages_names_the_fix_in_one_line(tmp_path):
    """A copy of bench.mjs beside no node_modules: what a fresh clone sees before `make web`."""
    require(shutil.which("node") is not None, "node is not installed")
    shutil.copy(WEB / "bench.mjs", tmp_path / "bench.mjs")
    done = subprocess.run(["node", str(tmp_path / "bench.mjs"), "bench"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: playwright-core is not installed") and "make web" in done.stderr
