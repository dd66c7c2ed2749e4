"""`python -m runtime.android`: without adb or a device it says what to do and exits non-zero,
writing nothing; results documents are validated before they are filed; an app that could not
start is reported as soon as its document appears. No device is mocked: the waiting is tested
through poll_results with a reader of a real file."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from common.errors import UserError
from runtime import android
from runtime.android import poll_results, results_path, summary, validate_device_results

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.conftest import FakeTime, require


def _run(args, env_path, tmp_path):
    env = dict(os.environ, PATH=env_path)
    return subprocess.run([sys.executable, "-m", "runtime.android", "--out-dir", str(tmp_path / "results"), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)


def test_no_adb_is_one_clear_line_and_exit_2(tmp_path):
    done = _run([], str(tmp_path), tmp_path)  # a PATH with no adb on it
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: adb not found"), done.stderr
    assert "platform-tools" in lines[0] and "--adb" in lines[0]
    assert not (tmp_path / "results").exists()


def test_without_a_device_says_so(tmp_path):
    require(shutil.which("adb") is not None, "adb is not installed (apt-get install adb)")
    devices = subprocess.run(["adb", "devices"], capture_output=True, text=True, timeout=60).stdout
    if any(line.endswith("\tdevice") for line in devices.splitlines()[1:]):
        pytest.skip("a device is connected: run `python -m runtime.android` by hand to measure it")
    try:
        done = _run([], os.environ["PATH"], tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == ("error: no Android device connected (`adb devices` lists none); connect a "
                                       "phone with USB debugging on (and accept the prompt) or start an emulator, "
                                       "then rerun")
        assert not (tmp_path / "results").exists()
    finally:  # `adb devices` started adb's server daemon; with no device attached nobody needs it
        subprocess.run(["adb", "kill-server"], capture_output=True, timeout=60, check=False)


def test_bad_config_is_refused(tmp_path):
    done = _run(["--iterations", "1"], str(tmp_path), tmp_path)
    assert done.returncode == 2 and "iterations" in done.stderr


def _doc() -> dict:
    return {"target": "android", "created_utc": "2026-11-25T18:00:00Z",
            "device": {"model": "Google Pixel 8", "os": "Android 15 (API 35)"},
            "method": {"warmup": 100, "iterations": 1000, "batch": 1, "threads": 1, "clock": "System.nanoTime()"},
            "results": [{"artifact": "mlp_executorch-xnnpack_fp32", "sha256": "ab", "status": "ok", "reason": None,
                         "load_ms": 3.1, "first_ms": 0.4, "p50_us": 40.0, "p90_us": 45.0, "p99_us": 60.0,
                         "mean_us": 42.0, "trimmed_mean_us": 41.0,
                         "verification": {"top1_agreement": 1.0, "max_abs_diff": 2e-6, "count": 32}},
                        {"artifact": "mlp_onnx_fp32", "sha256": "cd", "status": "failed",
                         "reason": "OrtException: bad model", }]}


def test_valid_results_pass_validation():
    assert validate_device_results(json.loads(json.dumps(_doc())), "android")["target"] == "android"


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d.pop("method"), "missing 'method'"),
    (lambda d: d.update(target="browser-wasm"), "expected 'android'"),
    (lambda d: d["results"][0].pop("p90_us"), "lacks \\['p90_us'\\]"),
    (lambda d: d["results"][0].update(p50_us=99.0), "percentiles out of order"),
    (lambda d: d["results"][1].update(reason=None), "no reason"),
    (lambda d: d.update(results=[]), "no results"),
])
def test_invalid_results_are_refused(break_it, message):
    doc = _doc()
    break_it(doc)
    with pytest.raises(UserError, match=message):
        validate_device_results(doc, "android")


def _failed_doc() -> dict:
    return {"target": "android", "created_utc": "2026-11-25T18:00:00Z", "status": "failed",
            "reason": "UnsatisfiedLinkError: dlopen failed: library \"libexecutorch.so\" not found",
            "device": {"model": "Google Pixel 8", "serial": "39031FDJH00ABC"},
            "method": {"warmup": 100, "iterations": 1000, "batch": 1, "threads": 1, "clock": "System.nanoTime()"},
            "results": []}


def test_a_start_failure_is_reported_as_soon_as_the_app_writes_it(tmp_path, monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(android, "time", clock)
    results = tmp_path / "benchmark_results.json"

    def read():  # the app writes its document 0.3 s in (to a temp name, then renamed, as MainActivity does)
        if clock.monotonic() >= 0.3 and not results.exists():
            (tmp_path / "tmp.json").write_text(json.dumps(_failed_doc()))
            os.replace(tmp_path / "tmp.json", results)
        return results.read_text() if results.exists() else None
    doc = poll_results(read, timeout_s=60, interval_s=0.05)
    assert clock.monotonic() < 0.4, "waited for the timeout instead of reporting the failure"
    ok, line = summary(doc)
    assert not ok and line == ("Google Pixel 8 (39031FDJH00ABC): the app could not start: UnsatisfiedLinkError: "
                               "dlopen failed: library \"libexecutorch.so\" not found")


def test_no_results_by_the_timeout_is_one_clear_error(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(android, "time", clock)
    with pytest.raises(UserError, match=r"no benchmark_results.json after 0 s; see `adb logcat -s MnistDemo`"):
        poll_results(lambda: None, timeout_s=0.2, interval_s=0.05)
    assert clock.monotonic() == pytest.approx(0.2)


def test_a_failed_document_needs_its_reason():
    doc = _failed_doc()
    assert validate_device_results(doc, "android") is doc
    doc["reason"] = ""
    with pytest.raises(UserError, match="status failed but no reason"):
        validate_device_results(doc, "android")


def test_one_results_file_per_device(tmp_path):
    assert results_path(tmp_path, "39031FDJH00ABC") == tmp_path / "android-39031FDJH00ABC.json"
    assert results_path(tmp_path, "192.168.1.5:5555") == tmp_path / "android-192.168.1.5_5555.json"
    ok, line = summary(dict(_doc(), device={"model": "Google Pixel 8", "serial": "A1"}))
    assert ok and line == "Google Pixel 8 (A1): 2 results (1 ok)"
