"""Two floors under every row: the compute floor (the model's FLOPs over the peak matmul rate
measured on this machine) and the memory floor (bytes read per call over the read bandwidth
measured at that working-set size). Each timed cpu row reports the nearer one and its distance.

No fp32 runtime of the full model can beat it, so it says how much of a row's latency is call overhead and memory
traffic rather than arithmetic. The peak is a large square torch.mm (the best case for a
BLAS); the MLP's own matmuls at batch 1 are matrix-vector products that run far below it. The floor
counts the fp32 model's FLOPs: a pruned model does less work and int8 kernels do more per cycle,
so those can land under it. A busy machine lowers the measured peak and so raises the floor.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from runtime.report.rows import Row

# Fastest of many short matmuls (512^3: ~3-10 ms each) rather than a few long ones: on a shared
# machine the fastest run is the one that caught a quiet moment, closest to the real peak.
REPEATS = 30


def model_flops(model: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one image through `model`, as torch's FlopCounterMode counts them (matmuls and
    convolutions: 2 per multiply-add; bias, ReLU and pooling are not counted, and are negligible)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros((1, *input_shape)))
    return int(counter.get_total_flops())


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


# Fastest of many reads, for the reason above; a read of a few MB takes ~0.1 ms here.
READ_REPEATS = 50
IMAGE_BYTES = (28 * 28 + 10) * 4  # one image in, its 10 logits out, float32


def read_bandwidth(nbytes: int, repeats: int = READ_REPEATS) -> float:
    """Bytes/s of the fastest of `repeats` numpy reads of one `nbytes` array. Reading the same array
    over and over keeps it in whatever cache level it fits, as a runtime reading the same weights on
    every call does. np.bitwise_or.reduce over uint64 does one integer OR per 8 bytes, so the read,
    not the arithmetic, bounds it (measured here: faster than sum, dot or max over the same bytes)."""
    a = np.ones(max(nbytes // 8, 1), dtype=np.uint64)
    np.bitwise_or.reduce(a)  # warm-up: page faults, the array into cache
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter_ns()
        np.bitwise_or.reduce(a)
        best = min(best, time.perf_counter_ns() - start)
    return a.nbytes / (best / 1e9)


def bytes_per_call(row: Row, checkpoint_weight_bytes: int) -> int:
    """Weights (the artifact's file size: the weights are nearly all of every file; the checkpoint's
    parameters for torch-eager) plus the images in and logits out. Read once per call at any batch."""
    return (row.size_bytes or checkpoint_weight_bytes) + row.batch * IMAGE_BYTES


def add_memory_floor(rows: list[Row], compute: dict, checkpoint_weight_bytes: int) -> dict:
    """Give every timed cpu row memory_floor_us, nearer_floor (memory | compute: the floor closer to
    its p50) and over_floor_us (p50 minus that floor; negative: the row beats that floor's model,
    e.g. an int8 or pruned artifact under the fp32 compute floor). Returns the report's memory_floor."""
    bandwidth: dict[int, float] = {}
    for r in rows:
        if r.status != "ok" or r.p50_us is None:
            continue
        n = bytes_per_call(r, checkpoint_weight_bytes)
        if n not in bandwidth:
            bandwidth[n] = read_bandwidth(n)
        floors = {"memory": n / bandwidth[n] * 1e6}
        compute_us = compute["floor_us"].get(str(r.threads), {}).get(str(r.batch))
        if compute_us is not None:
            floors["compute"] = compute_us
        nearer = min(floors, key=lambda kind: abs(r.p50_us - floors[kind]))
        r.memory_floor_us, r.nearer_floor, r.over_floor_us = floors["memory"], nearer, r.p50_us - floors[nearer]
    return {"bytes_per_call": "artifact file size (checkpoint parameters for torch-eager) + batch x "
                              f"{IMAGE_BYTES} B of images and logits",
            "read": f"np.bitwise_or.reduce over a uint64 array of that size, fastest of {READ_REPEATS}, one core",
            "read_gbps": {str(n): round(bw / 1e9, 1) for n, bw in sorted(bandwidth.items())}}
