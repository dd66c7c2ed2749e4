"""android / browser-wasm rows from the mobile demos' results files: ok, stale, absent."""
import json
from types import SimpleNamespace

import pytest

from common.errors import UserError
from runtime.manifest import Artifact, Manifest
from runtime.targets import TARGETS


def device_rows(target, folder, manifest):
    """(rows as dicts, device info) the way runtime/run.py gets them: `unavailable`, then `measure`."""
    ctx = SimpleNamespace(cfg=SimpleNamespace(device_results_dir=folder), manifest=manifest, shared={})
    why_not = TARGETS[target].unavailable(ctx)
    if why_not:
        return [{"status": "not measured", "reason": why_not, "p50_us": None}], None
    measured = TARGETS[target].measure(ctx)
    return [r.to_dict() for r in measured.rows], measured.device


def manifest_with(name, sha256):
    art = Artifact(name=name, format="onnx", backend="cpu", quantization="none", pruning="none", path=f"{name}.onnx",
                   sha256=sha256, status="ok", reason=None, size_bytes=10)
    return Manifest(path=None, folder=None, checkpoint_sha256=None, reference_accuracy=0.98,
                    accuracy_budget_pp=0.3, artifacts=(art,), raw={})


def result(name, sha256):
    return {"artifact": name, "sha256": sha256, "status": "ok", "reason": None, "load_ms": 12.0, "first_ms": 1.0,
            "p50_us": 50.0, "p90_us": 60.0, "p99_us": 80.0, "mean_us": 52.0, "trimmed_mean_us": 51.0,
            "verification": {"top1_agreement": 1.0, "max_abs_diff": 2e-6, "count": 32}}


def test_results_matching_the_manifest_are_ok_and_others_stale(tmp_path):
    (tmp_path / "browser-wasm.json").write_text(json.dumps({
        "target": "browser-wasm", "created_utc": "2026-11-25T18:00:00Z", "device": {"browser": "Chromium"},
        "method": {"warmup": 100, "iterations": 1000, "batch": 1, "threads": 1, "clock": "performance.now()"},
        "results": [result("mlp_onnx_fp32", "a" * 64), result("mlp_onnx_fp32", "b" * 64), result("gone", "c" * 64)]}))
    rows, info = device_rows("browser-wasm", tmp_path, manifest_with("mlp_onnx_fp32", "a" * 64))
    assert [r["status"] for r in rows] == ["ok", "stale", "stale"]
    assert "sha256 differs" in rows[1]["reason"] and "not in the current manifest" in rows[2]["reason"]
    assert rows[0]["p50_us"] == 50.0 and rows[0]["batch"] == 1 and rows[0]["top1_agreement"] == 1.0
    assert rows[0]["throughput"] == 1e6 / 52.0
    assert info["device"] == {"browser": "Chromium"}


def test_no_results_file_is_not_measured_with_the_reason(tmp_path):
    rows, info = device_rows("android", tmp_path, manifest_with("x", "a" * 64))
    assert info is None and rows[0]["status"] == "not measured"
    assert str(tmp_path / "android.json") in rows[0]["reason"]
    assert "python -m runtime.android" in TARGETS["android"].how_to_measure


def doc_with(result_changes):
    return {"target": "android", "created_utc": "2026-11-25T18:00:00Z", "device": {},
            "method": {"warmup": 1, "iterations": 2, "batch": 1, "threads": 1, "clock": "nanoTime"},
            "results": [{**result("x", "a" * 64), **result_changes}]}


@pytest.mark.parametrize("content, message", [
    ("{", "unreadable"),
    (b"\xff\xfe{", "unreadable"),
    (json.dumps(doc_with({"p50_us": "fast"})), r"mistyped \['p50_us'\]"),
    (json.dumps(doc_with({"mean_us": [52.0]})), r"mistyped \['mean_us'\]"),
    (json.dumps(doc_with({"status": "great"})), "unknown status 'great'"),
    (json.dumps({**doc_with({}), "method": 5}), "method has the wrong type"),
    (json.dumps({**doc_with({}), "results": [5]}), "result 0 lacks"),
])
def test_a_broken_results_file_is_one_user_error(tmp_path, content, message):
    path = tmp_path / "android.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UserError, match=message) as e:
        device_rows("android", tmp_path, manifest_with("x", "a" * 64))
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_each_phone_files_its_own_rows(tmp_path):
    for serial, model, p50 in (("A1", "Google Pixel 8", 40.0), ("B2", "Samsung SM-S921B", 55.0)):
        (tmp_path / f"android-{serial}.json").write_text(json.dumps({
            "target": "android", "status": "ok", "created_utc": "2026-11-25T18:00:00Z",
            "device": {"model": model, "serial": serial},
            "method": {"warmup": 100, "iterations": 1000, "batch": 1, "threads": 1, "clock": "nanoTime"},
            "results": [dict(result("mlp_onnx_fp32", "a" * 64), p50_us=p50)]}))
    rows, info = device_rows("android", tmp_path, manifest_with("mlp_onnx_fp32", "a" * 64))
    assert [(r["device"], r["status"], r["p50_us"]) for r in rows] == [
        ("Google Pixel 8 (A1)", "ok", 40.0), ("Samsung SM-S921B (B2)", "ok", 55.0)]
    assert [f["device"]["serial"] for f in info["files"]] == ["A1", "B2"]


def test_an_app_that_could_not_start_is_a_failed_row_with_its_reason(tmp_path):
    (tmp_path / "android-A1.json").write_text(json.dumps({
        "target": "android", "status": "failed", "reason": "UnsatisfiedLinkError: no libexecutorch.so",
        "created_utc": "2026-11-25T18:00:00Z", "device": {"model": "Google Pixel 8", "serial": "A1"},
        "method": {}, "results": []}))
    rows, _ = device_rows("android", tmp_path, manifest_with("x", "a" * 64))
    assert [(r["device"], r["status"]) for r in rows] == [("Google Pixel 8 (A1)", "failed")]
    assert rows[0]["reason"] == "the app could not start on this device: UnsatisfiedLinkError: no libexecutorch.so"
