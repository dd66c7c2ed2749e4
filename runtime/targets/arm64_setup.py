"""The ARM64 set-up's `ready` marker: what `make arm64` built, written last, checked before use.

native/arm64/setup.sh deletes the marker before its first step and writes it (this file, run as a
script: `python -P runtime/targets/arm64_setup.py write CACHE`) after its last, so a set-up that
failed anywhere leaves none. The marker records what the arm64 target runs on: the executorch and
onnxruntime versions whose aarch64 wheels were set up (they must be this environment's: its x86
runtimes are the other side of the parity check), the qemu-aarch64 that emulates and counts (the
counting plugin is built against its plugin API), and the sha256 of every file built and of the
native/arm64 sources they were built from. `problem` compares that record with the set-up as it is
now; a difference is one line that says what changed and to run `make arm64`. Checking costs a
`qemu-aarch64 --version` and hashing ~25 MB, about 0.1 s.

Standard library only: setup.sh runs it without the project's imports (torch alone takes seconds).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCES_DIR = Path(__file__).resolve().parents[2] / "native" / "arm64"
SOURCES = ("pte_runner.cpp", "ort_runner.cpp", "protocol.h", "markers.h", "insn_count.c", "cpuinfo")
BUILT = ("bin/pte_runner", "bin/ort_runner", "bin/insn_count.so", "rootfs/lib/ld-linux-aarch64.so.1",
         "rootfs/proc/cpuinfo", "ort/lib/libonnxruntime.so.1")
RUNTIMES = ("executorch", "onnxruntime")
FIX = "run `make arm64`"


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def qemu_version() -> str | None:
    """The first line of `qemu-aarch64 --version`, or None when it is not on PATH."""
    if shutil.which("qemu-aarch64") is None:
        return None
    done = subprocess.run(["qemu-aarch64", "--version"], capture_output=True, text=True, timeout=60)
    return (done.stdout.splitlines() or [""])[0].strip() or None


def state(cache: Path, sources: Path = SOURCES_DIR) -> dict:
    """What the set-up in `cache` is now, as the marker records it (None: a file is missing)."""
    return {"versions": {p: _version(p) for p in RUNTIMES}, "qemu": qemu_version(),
            "built": {name: _sha256(cache / name) for name in BUILT},
            "sources": {name: _sha256(sources / name) for name in SOURCES}}


def write(cache: Path, sources: Path = SOURCES_DIR) -> None:
    """Record the set-up in `cache`/ready (temp file, then rename); refuse an incomplete one."""
    now = state(cache, sources)
    missing = [name for name, digest in {**now["built"], **now["sources"]}.items() if digest is None]
    missing += [name for name, version in now["versions"].items() if version is None]
    missing += [] if now["qemu"] else ["qemu-aarch64"]
    if missing:
        raise SystemExit(f"error: the ARM64 set-up in {cache} is incomplete ({', '.join(missing)} missing); "
                         f"no ready marker written")
    tmp = cache / "ready.tmp"
    tmp.write_text(json.dumps(now, indent=2) + "\n")
    os.replace(tmp, cache / "ready")


def problem(cache: Path, sources: Path = SOURCES_DIR) -> str | None:
    """Why the set-up in `cache` cannot be used, in one line naming the fix; None when it matches its marker."""
    if shutil.which("qemu-aarch64") is None:
        return f"qemu-aarch64 is not on PATH (Debian's qemu-user, which make arm64 installs): {FIX}"
    marker = cache / "ready"
    if not marker.exists():
        return f"the ARM64 set-up is missing ({marker} not found): {FIX}"
    try:
        recorded = json.loads(marker.read_text())
        versions, qemu, built, recorded_sources = (recorded[k] for k in ("versions", "qemu", "built", "sources"))
        if not all(isinstance(d, dict) for d in (versions, built, recorded_sources)):
            raise TypeError
    except (OSError, ValueError, TypeError, KeyError):
        return f"{marker} does not record a finished set-up (an older or interrupted make arm64): {FIX}"
    now = state(cache, sources)
    for package, version in versions.items():
        if now["versions"].get(package) != version:
            return (f"the ARM64 set-up has {package} {version}, this environment {now['versions'].get(package)}: "
                    f"{FIX}")
    if qemu != now["qemu"]:
        return f"qemu-aarch64 changed since the set-up ({qemu} -> {now['qemu']}): {FIX}"
    changed = [name for name in BUILT if built.get(name) != now["built"][name]]
    if changed:
        return f"{', '.join(changed)} in {cache} changed or went missing since the set-up built it: {FIX}"
    changed = [name for name in SOURCES if recorded_sources.get(name) != now["sources"][name]]
    if changed:
        return f"{', '.join(changed)} in {sources} changed since the set-up was built from it: {FIX}"
    return None


if __name__ == "__main__":
    if sys.argv[1:2] != ["write"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -P runtime/targets/arm64_setup.py write CACHE_DIR")
    write(Path(sys.argv[2]))
