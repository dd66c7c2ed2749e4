"""The cpu target: every ok artifact through each of its x86 runtimes on this machine's CPU.

Rows per artifact x runtime x threads x batch (runtime/measure.py), the torch-eager baseline's
among them; then, from those rows, each runner's overhead over its runtime's own call and the
fastest rows re-timed against torch-eager in alternating rounds (runtime/compare.py), which is
what the recommendation ranks by; then the two floors under every row (runtime/floor.py).
"""
from __future__ import annotations

import torch

from runtime import compare, environment, floor, measure
from runtime.targets.base import Context, Measured, Target

NAME = "cpu"
BASELINE = "torch-eager"


def unavailable(ctx: Context) -> str | None:
    return None  # the machine running the report is the cpu target


def measure_cpu(ctx: Context) -> Measured:
    bench = measure.bench_of(ctx)
    jobs, skipped = measure.target_jobs(NAME, ctx.manifest, ctx.cfg.checkpoint, ctx.cfg.artifacts)
    previous_threads = torch.get_num_threads()
    try:
        rows = measure.run_jobs(jobs, bench)
        comparison = compare.interleaved_ratio(jobs, rows, bench, BASELINE)
        extras = {"runner_overhead": compare.runner_overhead(jobs, rows, bench), "interleaved_ratio": comparison}
        if ctx.cfg.floors:
            extras.update(floors(ctx, rows, bench))
    finally:
        torch.set_num_threads(previous_threads)  # loaders set torch's process-wide thread count
    ctx.shared["x86_logits"] = bench.logits  # the arm64 target's x86 side of its parity check
    device = {"cpu_model": environment.cpu_model(), "cores": environment.all_cores(), "threads": list(bench.threads)}
    return Measured(rows=rows + skipped, device=device, ranking=comparison, extras=extras)


def floors(ctx: Context, rows, bench: measure.Bench) -> dict:
    """The compute floor (the model's FLOPs over this machine's peak matmul rate) and each row's
    memory floor (runtime/floor.py)."""
    model = ctx.reference.model
    flops = floor.model_flops(model, tuple(ctx.reference.images.shape[1:]))
    compute = floor.compute_floor(flops, bench.batches, list(bench.threads), ctx.cfg.matmul_size)
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    return {"compute_floor": compute, "memory_floor": floor.add_memory_floor(rows, compute, weight_bytes)}


TARGET = Target(name=NAME, title="CPU server (x86-64, this machine)", metric="p50_us",
                metric_label="p50 latency at batch 1, 1 thread", baseline=BASELINE,
                how_to_measure="python -m runtime --targets cpu", unavailable=unavailable, measure=measure_cpu)
