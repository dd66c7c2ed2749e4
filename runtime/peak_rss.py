"""`python -m runtime.peak_rss RUNTIME PATH [--batch N]`: peak resident memory of one artifact.

Run in a fresh process so one artifact's memory is not mixed with the report's (torch,
the test set, the other runtimes). It loads the artifact, runs `--calls` predictions at
`--batch`, then prints one JSON line: {"peak_rss_mb": VmHWM, "baseline_rss_mb": VmHWM
after imports and before loading}. VmHWM is the kernel's high-water mark of resident set
size (/proc/self/status); ru_maxrss is the fallback where /proc is absent.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB -> MiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.peak_rss", description=__doc__)
    parser.add_argument("runtime", help="runtime name, e.g. onnxruntime (see runtime/runners.py)")
    parser.add_argument("path", type=Path, help="artifact file (or the checkpoint for torch-eager)")
    parser.add_argument("--batch", type=int, default=256, help="batch size of the predictions (default: 256)")
    parser.add_argument("--calls", type=int, default=10, help="predictions after loading (default: 10)")
    args = parser.parse_args(argv)
    from runtime import runners  # imports torch, onnxruntime, executorch: part of the baseline
    before = peak_rss_mb()
    runner = runners.load(args.runtime, args.path, threads=1)
    x = np.zeros((args.batch, 1, 28, 28), dtype=np.float32)
    for _ in range(args.calls):
        runner.predict(x)
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb(), 1), "baseline_rss_mb": round(before, 1)}))
    return 0


def measure_in_subprocess(runtime: str, path: Path, batch: int, timeout_s: float = 300) -> dict:
    """Run this module in a fresh interpreter; raises RuntimeError with its stderr tail on failure."""
    cmd = [sys.executable, "-m", "runtime.peak_rss", runtime, str(path), "--batch", str(batch)]
    # The project may not be pip-installed: make its root importable in the child too.
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    # subprocess.run kills the child on any exception: Ctrl-C, and SIGTERM (common.errors.run_cli raises it too)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"peak-RSS subprocess exited {done.returncode}: {tail[:200]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
