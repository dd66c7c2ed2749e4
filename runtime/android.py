"""`python -m runtime.android`: measure the embedded artifacts on every attached Android device.

For each device `adb devices` lists (or the one --serial names): installs the app's APK, starts
its benchmark mode (`adb shell am start -n org.mnistdeploy.demo/.MainActivity --es mode bench`),
waits for the app to write benchmark_results.json in its files folder, pulls it, validates it
against the device-results schema (docs/manifest.md) and files it at
reports/device_results/android-<serial>.json, where `python -m runtime` reads every such file
(rows marked stale once the artifact's sha256 changes). An app that could not start writes a
results document with status "failed" and the reason at once: it is filed and reported as soon
as it appears, not at the timeout.

No adb or no device: one line saying what to connect or install, exit status 2, nothing written.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from common.config import add_config_flags, config_from_args, option
from common.errors import UserError, run_cli
from common.files import atomic_write_json, ensure_writable_dir
from runtime.targets.device_results import validate as validate_device_results  # the one schema check

PACKAGE = "org.mnistdeploy.demo"           # applicationId in mobile_demo/android/app/build.gradle
RESULTS_NAME = "benchmark_results.json"     # in the app's filesDir: the app's Benchmark.RESULTS_NAME (tested equal)


@dataclasses.dataclass(frozen=True)
class AndroidConfig:
    apk: Path = option(Path("mobile_demo/android/app/build/outputs/apk/debug/app-debug.apk"),
                       "the app's APK, built in Android Studio or by `./gradlew assembleDebug` in mobile_demo/android")
    adb: str = option("adb", "adb executable (name on PATH or a path), from Android SDK platform-tools")
    serial: str = option("", "measure only this device (see `adb devices`); empty: every attached device")
    warmup: int = option(100, "untimed runs per artifact before timing")
    iterations: int = option(1000, "timed runs per artifact, batch 1, one at a time")
    timeout_s: float = option(600.0, "how long to wait for the app to finish benchmarking")
    out_dir: Path = option(Path("reports/device_results"), "where the validated results are filed, one android-<serial>.json per device")

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.iterations < 2:
            raise ValueError(f"need warmup >= 0 and iterations >= 2, got {self.warmup} and {self.iterations}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")


def _adb(cfg: AndroidConfig, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [cfg.adb] + (["-s", cfg.serial] if cfg.serial else []) + list(args)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"`{' '.join(cmd)}` did not finish in {timeout:.0f} s; check the device "
                        f"(unlocked, USB debugging allowed) and retry") from None


def find_devices(cfg: AndroidConfig) -> list[str]:
    """Serials of the devices to measure: every attached one, or the one --serial names."""
    if shutil.which(cfg.adb) is None:
        raise UserError(f"adb not found ({cfg.adb!r} is not on PATH); install Android SDK platform-tools "
                        f"and put adb on PATH, or pass --adb /path/to/adb")
    listing = _adb(dataclasses.replace(cfg, serial=""), "devices", timeout=30).stdout
    devices = [line.split("\t")[0] for line in listing.splitlines()[1:] if line.endswith("\tdevice")]
    if cfg.serial:
        if cfg.serial not in devices:
            raise UserError(f"device {cfg.serial} is not connected (adb devices lists {devices or 'none'})")
        return [cfg.serial]
    if not devices:
        raise UserError("no Android device connected (`adb devices` lists none); connect a phone with USB "
                        "debugging on (and accept the prompt) or start an emulator, then rerun")
    return devices


def poll_results(read: Callable[[], str | None], timeout_s: float, interval_s: float = 2.0) -> dict:
    """The app's results as soon as read() returns them, ok or failed; UserError at the timeout.
    The app writes to a temp name and renames, so a document that is present is complete."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = read()
        if text is not None and text.strip().startswith("{"):
            try:
                return validate_device_results(json.loads(text), "android")
            except json.JSONDecodeError as e:
                raise UserError(f"the app wrote unreadable {RESULTS_NAME} ({e}); see `adb logcat -s MnistDemo`") from None
        if time.monotonic() >= deadline:
            raise UserError(f"no {RESULTS_NAME} after {timeout_s:.0f} s; see `adb logcat -s MnistDemo` "
                            f"for the app's error, or raise --timeout-s")
        time.sleep(interval_s)


def run_on_device(cfg: AndroidConfig, serial: str) -> dict:
    """Install, start benchmark mode and wait on one device; its results with device.serial added."""
    cfg = dataclasses.replace(cfg, serial=serial)
    steps = [("install", ["install", "-r", str(cfg.apk)], 300),
             ("clear old results", ["shell", "run-as", PACKAGE, "rm", "-f", f"files/{RESULTS_NAME}"], 30),
             ("start benchmark mode", ["shell", "am", "start", "-S", "-W", "-n", f"{PACKAGE}/.MainActivity",
                                       "--es", "mode", "bench", "--ei", "warmup", str(cfg.warmup),
                                       "--ei", "iterations", str(cfg.iterations)], 60)]
    for what, args, timeout in steps:
        done = _adb(cfg, *args, timeout=timeout)
        if done.returncode != 0 or "Failure" in done.stdout or "Error" in done.stdout:
            raise UserError(f"adb {what} failed on {serial}: {(done.stdout + done.stderr).strip()[:300]}")

    def read() -> str | None:
        got = _adb(cfg, "exec-out", "run-as", PACKAGE, "cat", f"files/{RESULTS_NAME}", timeout=60)
        return got.stdout if got.returncode == 0 else None
    doc = poll_results(read, cfg.timeout_s)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.android", description=__doc__.splitlines()[0])
    add_config_flags(parser, AndroidConfig)
    cfg = config_from_args(AndroidConfig, "android", parser.parse_args(argv))
    serials = find_devices(cfg)
    if not cfg.apk.is_file():
        raise UserError(f"APK {cfg.apk} not found; build it (Android Studio: Build > Build APK(s), or "
                        f"`./gradlew assembleDebug` in mobile_demo/android) or pass --apk")
    ensure_writable_dir(cfg.out_dir, "device results")
    all_ok = True
    for serial in serials:  # one at a time: each phone's numbers are its own, with nothing else running
        try:
            doc = run_on_device(cfg, serial)
        except UserError as e:
            print(f"error: {serial}: {e}", file=sys.stderr)
            all_ok = False
            continue
        path = results_path(cfg.out_dir, serial)
        atomic_write_json(path, doc)
        ok, line = summary(doc)
        all_ok &= ok
        print(f"{line}; filed at {path}", file=sys.stdout if ok else sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
