"""The compute floor: the model's FLOPs over the peak matmul rate measured on this machine.

No fp32 runtime of the full model can beat it, so it says how much of a row's latency is call overhead and memory
traffic rather than arithmetic. The peak is a large square torch.mm (the best case for a
BLAS); the MLP's own matmuls at batch 1 are matrix-vector products that run far below it. The floor
counts the fp32 model's FLOPs: a pruned model does less work and int8 kernels do more per cycle,
so those can land under it. A busy machine lowers the measured peak and so raises the floor.
"""
from __future__ import annotations

import time

import torch

# Fastest of many short matmuls (512^3: ~3-10 ms each) rather than a few long ones: on a shared
# machine the fastest run is the one that caught a quiet moment, closest to the real peak.
REPEATS = 30


def model_flops(input_size: int, hidden_size: int, classes: int) -> int:
    """Multiply-adds x 2 of fc1 and fc2 per image (bias and ReLU are negligible)."""
    return 2 * (input_size * hidden_size + hidden_size * classes)


def peak_matmul_flops(n: int, threads: int, repeats: int = REPEATS) -> float:
    """FLOP/s of the fastest of `repeats` n x n fp32 torch.mm at `threads` threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)  # warm-up: thread pool start, page faults of the output
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter_ns()
            torch.mm(a, b)
            best = min(best, time.perf_counter_ns() - start)
    finally:
        torch.set_num_threads(previous)
    return 2.0 * n ** 3 / (best / 1e9)


def compute_floor(flops_per_sample: int, batches: tuple[int, ...], threads: list[int], n: int) -> dict:
    measured = {t: peak_matmul_flops(n, t) for t in threads}
    return {"flops_per_sample": flops_per_sample, "matmul": f"torch.mm {n}x{n} fp32, fastest of {REPEATS}",
            **floor_from_rates(flops_per_sample, batches, measured)}


def floor_from_rates(flops_per_sample: int, batches: tuple[int, ...], measured: dict[int, float]) -> dict:
    """Floor in us per thread count and batch. A runtime given t threads may use fewer, so the rate
    at t is the best measured with <= t (on a busy 2-core machine 2 threads can measure slower)."""
    peaks = {t: max(p for u, p in measured.items() if u <= t) for t in measured}
    return {
        "peak_gflops": {str(t): round(p / 1e9, 2) for t, p in peaks.items()},
        "measured_gflops": {str(t): round(p / 1e9, 2) for t, p in measured.items()},
        "floor_us": {str(t): {str(b): flops_per_sample * b / peaks[t] * 1e6 for b in batches} for t in peaks},
    }
