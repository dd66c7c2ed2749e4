"""`python -m runtime.android`: measure the embedded artifacts on every attached Android device.

For each device `adb devices` lists (or the one --serial names): installs the app's APK (debug or
release), starts its benchmark mode (`adb shell am start -n org.mnistdeploy.demo/.MainActivity
--es mode bench`), waits for the app to write benchmark_results.json in its external files folder,
pulls it, validates it against the device-results schema (docs/manifest.md) and files it at
reports/device_results/android-<serial>.json, where `python -m runtime` reads every such file
(rows marked stale once the artifact's sha256 changes). An app that could not start writes a
results document with status "failed" and the reason at once, and an app that crashed is found
by its missing process within one poll (2 s): both are reported then, not at the timeout.

No adb or no ready device: one line saying what to connect, install or accept (an unauthorized or
offline device is named), exit status 2, nothing written.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from common.config import add_config_flags, check_fields, config_from_args, option
from runtime.config import MAX_CALLS
from common.errors import UserError, one_line, run_cli
from common.files import atomic_write_json, ensure_writable_dir
from runtime.device_results import validate as validate_device_results  # the one schema check

PACKAGE = "org.mnistdeploy.demo"           # applicationId in mobile_demo/android/app/build.gradle
RESULTS_NAME = "benchmark_results.json"     # the app's Benchmark.RESULTS_NAME (tested equal)
# Where the app writes it (mobile_demo/android/.../Results.java): its external files folder, which adb
# reads on any build; filesDir (read through run-as, debuggable builds only) when there is none.
EXTERNAL_RESULTS = f"/sdcard/Android/data/{PACKAGE}/files/{RESULTS_NAME}"
INTERNAL_RESULTS = f"files/{RESULTS_NAME}"
NOT_READY = {"unauthorized": "unlock it and accept the \"Allow USB debugging\" prompt, then rerun",
             "offline": "reconnect the cable or run `adb reconnect offline`, then rerun",
             "no permissions": "add a udev rule for it (see `adb devices -l`), then rerun"}


@dataclasses.dataclass(frozen=True)
class AndroidConfig:
    apk: Path = option(Path("mobile_demo/android/app/build/outputs/apk/debug/app-debug.apk"),
                       "the app's APK, built in Android Studio or by `./gradlew assembleDebug` in mobile_demo/android")
    adb: str = option("adb", "adb executable (name on PATH or a path), from Android SDK platform-tools")
    serial: str = option("", "measure only this device (see `adb devices`); empty: every attached device")
    warmup: int = option(100, "untimed runs per artifact before timing", low=0, high=MAX_CALLS)
    iterations: int = option(1000, "timed runs per artifact, batch 1, one at a time", low=2, high=MAX_CALLS)
    timeout_s: float = option(600.0, "how long to wait for the app to finish benchmarking", above=0.0,
                              high=24 * 3600.0)  # a benchmark not done in a day has hung
    out_dir: Path = option(Path("reports/device_results"), "where the validated results are filed, one android-<serial>.json per device")

    def __post_init__(self) -> None:
        check_fields(self)  # the bounds declared beside each field


def _adb(cfg: AndroidConfig, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [cfg.adb] + (["-s", cfg.serial] if cfg.serial else []) + list(args)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"`{' '.join(cmd)}` did not finish in {timeout:.0f} s; check the device "
                        f"(unlocked, USB debugging allowed) and retry") from None


def _listed(cfg: AndroidConfig) -> dict[str, str]:
    """`adb devices`: serial -> state (device, unauthorized, offline, ...)."""
    if shutil.which(cfg.adb) is None:
        raise UserError(f"adb not found ({cfg.adb!r} is not on PATH); install Android SDK platform-tools "
                        f"and put adb on PATH, or pass --adb /path/to/adb")
    listing = _adb(dataclasses.replace(cfg, serial=""), "devices", timeout=30).stdout
    return dict(line.split("\t")[:2] for line in listing.splitlines()[1:] if line.count("\t") == 1)


def not_ready(serial: str, state: str) -> str:
    """Why a listed device cannot be measured, and what to do about it."""
    fix = NOT_READY.get(state, "reconnect it and check `adb devices`")
    return f"device {serial} is {state}: {fix}"


def find_devices(cfg: AndroidConfig) -> tuple[list[str], list[str]]:
    """(serials to measure, one line per listed device that is not ready): every attached device, or
    the one --serial names. None ready: UserError naming each device that is not."""
    listed = _listed(cfg)
    if cfg.serial:
        listed = {cfg.serial: listed[cfg.serial]} if cfg.serial in listed else {}
        if not listed:
            raise UserError(f"device {cfg.serial} is not connected (`adb devices` lists {sorted(_listed(cfg)) or 'none'})")
    ready = [serial for serial, state in listed.items() if state == "device"]
    problems = [not_ready(serial, state) for serial, state in listed.items() if state != "device"]
    if not ready:
        raise UserError("; ".join(problems) if problems else
                        "no Android device connected (`adb devices` lists none); connect a phone with USB "
                        "debugging on (and accept the prompt) or start an emulator, then rerun")
    return ready, problems


def parse_results(text: str) -> dict:
    """The app's results document, validated; the one reader of what the app writes."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:  # RecursionError: JSON nested deeper than Python's stack
        raise UserError(f"the app wrote an unreadable {RESULTS_NAME} ({one_line(e)[:120]}); "
                        f"see `adb logcat -s MnistDemo`") from None
    return validate_device_results(doc, "android")


def poll_results(read: Callable[[], str | None], timeout_s: float, interval_s: float = 2.0,
                 stopped: Callable[[], str | None] = lambda: None) -> dict:
    """The app's results as soon as read() returns them, ok or failed. stopped() says why the app is
    no longer running (None while it runs): a crash is reported at once, not at the timeout.
    The app writes to a temp name and renames, so a document that is present is complete."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = read()
        if text is None and (reason := stopped()) is not None:
            text = read()  # it may have written its results just before it went
            if text is None:
                raise UserError(f"the app stopped before writing {RESULTS_NAME}: {reason}")
        if text is not None:
            return parse_results(text)
        if time.monotonic() >= deadline:
            raise UserError(f"no {RESULTS_NAME} after {timeout_s:.0f} s; see `adb logcat -s MnistDemo` "
                            f"for the app's error, or raise --timeout-s")
        time.sleep(interval_s)


def read_results(cfg: AndroidConfig) -> str | None:
    """The results file's text, or None while there is none. The app-specific external folder first
    (`adb pull` reads it from a release build too), then filesDir through run-as (debuggable builds)."""
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / RESULTS_NAME
        if _adb(cfg, "pull", EXTERNAL_RESULTS, str(local), timeout=60).returncode == 0 and local.is_file():
            return local.read_text(encoding="utf-8", errors="replace")
    got = _adb(cfg, "exec-out", "run-as", PACKAGE, "cat", INTERNAL_RESULTS, timeout=60)
    # exec-out passes neither the exit status nor stderr apart on older adb: a missing file or a
    # release build prints "cat: ...: No such file or directory" or "run-as: ..." with status 0.
    if got.returncode != 0 or not got.stdout.lstrip().startswith("{"):
        return None
    return got.stdout


def crash_reason(cfg: AndroidConfig) -> str | None:
    """None while the app's process runs; else why it ended, from the crash log."""
    ps = _adb(cfg, "shell", "pidof", PACKAGE, timeout=30)
    if ps.returncode != 1 or ps.stdout.strip():  # pidof: 1 = no such process; anything else, assume it runs
        return None
    crash = _adb(cfg, "logcat", "-d", "-b", "crash", timeout=30).stdout
    lines = [line.split(": ", 1)[-1].strip() for line in crash.splitlines() if "AndroidRuntime" in line]
    cause = next((line for line in lines if re.match(r"[\w.$]+(Exception|Error)\b", line)), None)
    where = f"adb -s {cfg.serial} logcat -b crash -d"
    return (f"it crashed with {cause} (full trace: `{where}`)" if cause else
            f"its process ended without a crash report (see `adb -s {cfg.serial} logcat -s MnistDemo`)")


def run_on_device(cfg: AndroidConfig, serial: str) -> dict:
    """Install, start benchmark mode and wait on one device; its results with device.serial added."""
    cfg = dataclasses.replace(cfg, serial=serial)
    # Old results and crash reports go first; a release build refuses run-as, so those two may fail.
    _adb(cfg, "shell", "rm", "-f", EXTERNAL_RESULTS, timeout=30)
    _adb(cfg, "shell", "run-as", PACKAGE, "rm", "-f", INTERNAL_RESULTS, timeout=30)
    _adb(cfg, "logcat", "-b", "crash", "-c", timeout=30)
    # -t: Android Studio's Run marks the APK testOnly, which plain `install -r` refuses.
    steps = [("install", ["install", "-r", "-t", str(cfg.apk)], 300),
             ("start benchmark mode", ["shell", "am", "start", "-S", "-W", "-n", f"{PACKAGE}/.MainActivity",
                                       "--es", "mode", "bench", "--ei", "warmup", str(cfg.warmup),
                                       "--ei", "iterations", str(cfg.iterations)], 60)]
    for what, args, timeout in steps:
        done = _adb(cfg, *args, timeout=timeout)
        if done.returncode != 0 or "Failure" in done.stdout or "Error" in done.stdout:
            raise UserError(f"adb {what} failed on {serial}: {(done.stdout + done.stderr).strip()[:300]}")
    doc = poll_results(lambda: read_results(cfg), cfg.timeout_s, stopped=lambda: crash_reason(cfg))
    doc["device"] = {**(doc.get("device") or {}), "serial": serial}
    return doc


def results_path(out_dir: Path, serial: str) -> Path:
    """android-<serial>.json; a serial like 192.168.1.5:5555 (adb over Wi-Fi) becomes a safe file name."""
    return Path(out_dir) / f"android-{re.sub(r'[^A-Za-z0-9._-]', '_', serial)}.json"


def summary(doc: dict) -> tuple[bool, str]:
    """(ok, one line) for a filed results document."""
    device = doc.get("device") or {}
    who = f"{device.get('model', '?')} ({device.get('serial', '?')})"
    if doc.get("status") == "failed":
        return False, f"{who}: the app could not start: {doc['reason']}"
    ok = sum(r["status"] == "ok" for r in doc["results"])
    return True, f"{who}: {len(doc['results'])} results ({ok} ok)"


def file_results(cfg: AndroidConfig, serial: str, doc: dict) -> tuple[bool, str]:
    """(ok, one line) after filing one device's results; a write that fails loses nothing: the file
    stays on the phone and the line says how to get it."""
    path = results_path(cfg.out_dir, serial)
    try:
        atomic_write_json(path, doc)
    except OSError as e:
        return False, (f"{serial}: cannot file its results at {path} ({e.strerror or e}); they are still on the "
                       f"phone: free space and `adb -s {serial} pull {EXTERNAL_RESULTS} {path}`")
    ok, line = summary(doc)
    return ok, f"{line}; filed at {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.android", description=__doc__.splitlines()[0])
    add_config_flags(parser, AndroidConfig)
    cfg = config_from_args(AndroidConfig, "android", parser.parse_args(argv))
    serials, problems = find_devices(cfg)
    if not cfg.apk.is_file():
        raise UserError(f"APK {cfg.apk} not found; build it (Android Studio: Build > Build APK(s), or "
                        f"`./gradlew assembleDebug` in mobile_demo/android) or pass --apk")
    ensure_writable_dir(cfg.out_dir, "device results")
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    all_ok = not problems
    for serial in serials:  # one at a time: each phone's numbers are its own, with nothing else running
        try:
            doc = run_on_device(cfg, serial)
        except UserError as e:
            print(f"error: {serial}: {e}", file=sys.stderr)
            all_ok = False
            continue
        ok, line = file_results(cfg, serial, doc)
        all_ok &= ok
        print(line if ok else f"error: {line}", file=sys.stdout if ok else sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
