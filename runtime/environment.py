"""What the numbers were measured on: written into every report."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

from export.manifest import versions

PACKAGES = ("torch", "onnxruntime", "onnxruntime-gpu", "onnx", "executorch", "numpy", "matplotlib")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """HEAD's hash, with "+dirty" when the working tree has uncommitted changes; "unknown" outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def all_cores() -> int:
    """Cores this process may run on (the affinity mask), which is what a thread pool can use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe(threads: list[int], harness_overhead: dict) -> dict:
    load1, load5, _ = os.getloadavg()
    return {
        "cpu_model": cpu_model(),
        "cores": all_cores(),
        "threads": threads,
        "platform": platform.platform(),
        "versions": versions(PACKAGES),
        "git_commit": git_commit(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # A shared machine's load moves absolute numbers; compare ratios within one report.
        "load_average_1m_5m": [round(load1, 2), round(load5, 2)],
        "harness_overhead": harness_overhead,
    }
