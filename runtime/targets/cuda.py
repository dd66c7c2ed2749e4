"""The cuda target: the cpu target's runtimes with device="cuda" (runtime/runners.py), on this
machine's GPU. Without one, a `not measured` row says so: a number is never made up."""
from __future__ import annotations

import torch

from runtime import measure
from runtime.targets.base import Context, Measured, Target

NAME = "cuda"
BASELINE = "torch-eager-cuda"


def unavailable(ctx: Context) -> str | None:
    return None if torch.cuda.is_available() else "no CUDA device"


def measure_cuda(ctx: Context) -> Measured:
    bench = measure.bench_of(ctx, peak_rss=False)  # peak RSS is a host-memory figure: cpu rows only
    jobs, skipped = measure.target_jobs(NAME, ctx.manifest, ctx.cfg.checkpoint, ctx.cfg.artifacts)
    rows = measure.run_jobs(jobs, bench)
    device = {"gpu": torch.cuda.get_device_name(0), "cuda": torch.version.cuda}
    return Measured(rows=rows + skipped, device=device)


TARGET = Target(name=NAME, title="GPU (CUDA)", metric="p50_us", metric_label="p50 latency at batch 1",
                baseline=BASELINE, how_to_measure="python -m runtime --targets cuda",
                unavailable=unavailable, measure=measure_cuda)
