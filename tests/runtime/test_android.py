"""`python -m runtime.android`: without adb or a device it says what to do and exits non-zero,
writing nothing; results documents are validated before they are filed; an app that could not
start or that crashed is reported as soon as that shows. The waiting is tested through
poll_results with a reader of a real file, and the whole command against a fake `adb` (a script
that answers as adb does for a crashed app, an unauthorized phone, a release build)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from common.errors import UserError
from runtime import android
from runtime.android import EXTERNAL_RESULTS, poll_results, results_path, summary, validate_device_results

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


# A fake `adb`: answers from a scenario (JSON, $FAKE_ADB) as adb 35 does, logs each call to $FAKE_ADB_LOG.
FAKE_ADB = r"""
import json, os, sys, time
scenario = json.load(open(os.environ["FAKE_ADB"]))
args = sys.argv[1:]
if args[:1] == ["-s"]:
    args = args[2:]
with open(os.environ["FAKE_ADB_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
results = scenario.get("results")
if args == ["devices"]:
    print("List of devices attached")
    for serial, state in scenario["devices"]:
        print(f"{serial}\t{state}")
elif args[0] == "install":
    print("Performing Streamed Install\nSuccess")
elif args[:3] == ["shell", "am", "start"]:
    print("Starting: Intent { cmp=org.mnistdeploy.demo/.MainActivity (has extras) }\nStatus: ok")
elif args[0] == "pull":
    if results is None:
        sys.exit(f"adb: error: failed to stat remote object '{args[1]}': No such file or directory")
    open(args[2], "w").write(results)
    print(f"{args[1]}: 1 file pulled")
elif (args[:2] == ["exec-out", "run-as"] or args[:2] == ["shell", "run-as"]) and not scenario.get("debuggable"):
    print("run-as: package not debuggable: org.mnistdeploy.demo")  # a release build; exec-out exits 0
    sys.exit(0 if args[0] == "exec-out" else 1)
elif args[:2] == ["exec-out", "run-as"]:  # exec-out exits 0 whatever cat says
    print(results if results is not None else f"cat: {args[-1]}: No such file or directory")
elif args[:2] == ["shell", "pidof"]:
    if scenario.get("running", True):
        print("12345")
    else:
        sys.exit(1)
elif args[:2] == ["logcat", "-d"]:
    print(scenario.get("crash", ""))
"""

CRASH = """--------- beginning of crash
12-02 13:00:00.123  4321  4321 E AndroidRuntime: FATAL EXCEPTION: main
12-02 13:00:00.123  4321  4321 E AndroidRuntime: Process: org.mnistdeploy.demo, PID: 4321
12-02 13:00:00.123  4321  4321 E AndroidRuntime: java.lang.RuntimeException: Unable to start activity ComponentInfo{org.mnistdeploy.demo/org.mnistdeploy.demo.MainActivity}: java.lang.IllegalStateException: boom
12-02 13:00:00.123  4321  4321 E AndroidRuntime: \tat android.app.ActivityThread.performLaunchActivity(ActivityThread.java:3782)"""


@pytest.fixture
def fake_adb(tmp_path):
    """(run, calls): run(scenario, *args) runs `python -m runtime.android` with the fake adb."""
    adb = tmp_path / "adb"
    adb.write_text(f"#!{sys.executable}\n{FAKE_ADB}")
    adb.chmod(0o755)
    (tmp_path / "app.apk").write_bytes(b"PK")
    log = tmp_path / "adb.log"

    def run(scenario: dict, *args: str) -> subprocess.CompletedProcess:
        (tmp_path / "scenario.json").write_text(json.dumps(scenario))
        env = dict(os.environ, FAKE_ADB=str(tmp_path / "scenario.json"), FAKE_ADB_LOG=str(log))
        return subprocess.run([sys.executable, "-m", "runtime.android", "--adb", str(adb), "--apk",
                               str(tmp_path / "app.apk"), "--out-dir", str(tmp_path / "results"), *args],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    return run, lambda: log.read_text().splitlines()


def test_a_crashed_app_is_reported_with_its_reason_not_after_the_timeout(fake_adb, tmp_path):
    run, _ = fake_adb
    # the app's default timeout is 600 s; `run` gives up after 120 s, so waiting it out fails the test
    done = run({"devices": [["A1", "device"]], "running": False, "crash": CRASH})
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == ("error: A1: the app stopped before writing benchmark_results.json: it crashed with "
                                   "java.lang.RuntimeException: Unable to start activity ComponentInfo{org.mnistdeploy.demo/"
                                   "org.mnistdeploy.demo.MainActivity}: java.lang.IllegalStateException: boom (full trace: "
                                   "`adb -s A1 logcat -b crash -d`)")
    assert not (tmp_path / "results" / "android-A1.json").exists()


@pytest.mark.parametrize("state, says", [("unauthorized", "accept the \"Allow USB debugging\" prompt"),
                                         ("offline", "adb reconnect offline")])
def test_a_device_that_is_not_ready_is_named(fake_adb, state, says):
    run, _ = fake_adb
    done = run({"devices": [["39031FDJH00ABC", state]]})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: device 39031FDJH00ABC is {state}: "), done.stderr
    assert says in lines[0]


def test_a_release_build_is_installed_with_t_and_read_without_run_as(fake_adb, tmp_path):
    run, calls = fake_adb
    done = run({"devices": [["A1", "device"], ["B2", "unauthorized"]], "results": json.dumps(_doc())})
    assert done.returncode == 1, "an unauthorized device is an error even when another one is measured"
    assert "error: device B2 is unauthorized" in done.stderr
    assert "Google Pixel 8 (A1): 2 results (1 ok); filed at" in done.stdout
    filed = json.loads((tmp_path / "results" / "android-A1.json").read_text())
    assert filed["device"]["serial"] == "A1"
    assert "install -r -t " + str(tmp_path / "app.apk") in calls()
    assert any(c.startswith(f"pull {EXTERNAL_RESULTS} ") for c in calls())


def test_cat_of_a_missing_file_is_no_results(fake_adb):
    """`exec-out run-as ... cat` of a missing file exits 0 with cat's (or run-as's) message on stdout."""
    run, _ = fake_adb
    done = run({"devices": [["A1", "device"]], "results": None, "debuggable": True}, "--timeout-s", "1")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: A1: no benchmark_results.json after 1 s"), done.stderr


def test_deeply_nested_results_are_one_line(fake_adb):
    run, _ = fake_adb
    done = run({"devices": [["A1", "device"]], "results": "{\"a\": " * 100_000 + "1" + "}" * 100_000, "debuggable": True})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "the app wrote an unreadable benchmark_results.json (RecursionError" in lines[0], done.stderr


def test_results_on_a_full_disk_are_one_line_and_stay_on_the_phone(fake_adb, tmp_path, monkeypatch, capsys):
    """Filing fails at the write (ENOSPC): one line saying where the results still are, no temp file left."""
    import errno
    (tmp_path / "scenario.json").write_text(json.dumps({"devices": [["A1", "device"]], "results": json.dumps(_doc()),
                                                        "debuggable": True}))
    monkeypatch.setenv("FAKE_ADB", str(tmp_path / "scenario.json"))
    monkeypatch.setenv("FAKE_ADB_LOG", str(tmp_path / "adb.log"))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    code = android.main(["--adb", str(tmp_path / "adb"), "--apk", str(tmp_path / "app.apk"),
                         "--out-dir", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "cannot file its results at" in err and "No space left on device" in err, err
    assert f"adb -s A1 pull {EXTERNAL_RESULTS}" in err
    assert list((tmp_path / "results").iterdir()) == [], "a half-written results file or temp file was left"
