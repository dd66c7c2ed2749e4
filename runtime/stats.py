"""Summary statistics of one latency sample set (nanoseconds per call in, microseconds out).

Percentiles use numpy's default linear interpolation between order statistics (what
`np.percentile` and most benchmark tools report). The standard deviation is the sample
one (ddof=1). The trimmed mean drops the lowest and highest 10% (floor of n/10 each side),
so a few scheduler hiccups on a shared machine do not move it the way they move the mean.
"""
from __future__ import annotations

import math

import numpy as np

TRIM_FRACTION = 0.10  # dropped from each end for the trimmed mean: the middle 80% remains


def percentile(samples_us: np.ndarray, q: float) -> float:
    return float(np.percentile(samples_us, q))


def trimmed_mean(samples_us: np.ndarray, fraction: float = TRIM_FRACTION) -> float:
    """Mean of the middle (1 - 2*fraction) of the sorted samples."""
    ordered = np.sort(np.asarray(samples_us, dtype=np.float64))
    k = int(math.floor(len(ordered) * fraction))
    return float(ordered[k:len(ordered) - k].mean())


def summarize(samples_ns: np.ndarray, batch: int, cv_warn: float) -> dict[str, float | bool]:
    """p50/p90/p99, mean, std, trimmed mean (all in us), throughput (samples/s), CV and its warning."""
    us = np.asarray(samples_ns, dtype=np.float64) / 1000.0
    if us.size < 2:
        raise ValueError(f"need at least 2 timed calls for statistics, got {us.size}")
    mean = float(us.mean())
    std = float(us.std(ddof=1))
    cv = std / mean if mean > 0 else float("inf")
    return {
        "p50_us": percentile(us, 50),
        "p90_us": percentile(us, 90),
        "p99_us": percentile(us, 99),
        "mean_us": mean,
        "std_us": std,
        "trimmed_mean_us": trimmed_mean(us),
        # Samples per second over the whole timed run: total images / total time.
        "throughput": batch * 1e6 / mean if mean > 0 else float("inf"),
        "cv": cv,
        "high_cv": bool(cv > cv_warn),
        "n": int(us.size),
    }


def median_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the median of `values` (the sign test's): the k-th smallest
    and k-th largest value, k the largest with P(Binomial(n, 1/2) < k) <= (1 - confidence) / 2,
    so the interval covers the true median with at least `confidence`. Needs n >= 6 at 95%."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    n, tail = len(ordered), (1.0 - confidence) / 2
    below, k = 0.0, 0  # below = P(X < k+1) as k grows
    while k < n and below + math.comb(n, k) / 2 ** n <= tail:
        below += math.comb(n, k) / 2 ** n
        k += 1
    if k == 0:
        raise ValueError(f"{n} values are too few for a {confidence:.0%} interval of their median")
    return float(ordered[k - 1]), float(ordered[n - k])
