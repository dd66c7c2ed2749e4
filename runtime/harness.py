"""The timing method, identical for every runtime: load, first call, warm-up, timed calls.

Each call is timed alone with time.perf_counter_ns() around one `predict(x)` (numpy in,
numpy out, so every runtime pays its own conversions). The garbage collector is off while
timing, as `timeit` does, so a collection triggered by one runtime's allocations does not
land in another's samples. The same loop around a predict that does nothing gives the
harness's own overhead, reported beside the numbers (about 0.1-0.2 us here).
"""
from __future__ import annotations

import dataclasses
import gc
import time
from typing import Callable

import numpy as np

from runtime import stats


@dataclasses.dataclass(frozen=True)
class Method:
    warmup: int           # untimed calls before timing, at every batch size
    iterations: int       # timed calls at batch 1 (at least)
    min_seconds: float    # at batch > 1: keep timing until this much time has been timed...
    min_calls: int        # ...and at least this many calls
    cv_warn: float        # coefficient of variation above which a row is flagged noisy

    def describe(self) -> dict:
        return {"clock": "time.perf_counter_ns per predict() call, gc disabled while timing",
                "warmup_calls": self.warmup,
                "warmup_batch_gt_1": f"{self.warmup} calls or {self.min_seconds} s, whichever ends first", "timed_calls_batch_1": self.iterations,
                "timed_seconds_batch_gt_1": self.min_seconds, "min_timed_calls_batch_gt_1": self.min_calls,
                "cv_warning_above": self.cv_warn}


class EmptyRunner:
    """predict() that does nothing: timing it measures the harness itself."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x


def load_timed(load: Callable[[], object]) -> tuple[object, float]:
    """Call `load()` and return (runner, milliseconds it took)."""
    start = time.perf_counter_ns()
    runner = load()
    return runner, (time.perf_counter_ns() - start) / 1e6


def first_call_ms(runner, x: np.ndarray) -> float:
    """The first predict at this input shape: lazy init, shape planning and cold caches show here."""
    start = time.perf_counter_ns()
    runner.predict(x)
    return (time.perf_counter_ns() - start) / 1e6


def warm_up(predict: Callable[[np.ndarray], object], x: np.ndarray, calls: int, max_seconds: float | None) -> None:
    """`calls` untimed calls, or fewer once `max_seconds` have passed (None: no time cap)."""
    deadline = None if max_seconds is None else time.perf_counter_ns() + int(max_seconds * 1e9)
    for _ in range(calls):
        predict(x)
        if deadline is not None and time.perf_counter_ns() > deadline:
            break


def time_calls(predict: Callable[[np.ndarray], object], x: np.ndarray, iterations: int,
               min_seconds: float) -> np.ndarray:
    """Nanoseconds of each timed call: at least `iterations` calls and at least `min_seconds` in all."""
    samples: list[int] = []
    budget_ns = int(min_seconds * 1e9)
    clock = time.perf_counter_ns
    timed = 0
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        while len(samples) < iterations or timed < budget_ns:
            t0 = clock()
            predict(x)
            t1 = clock()
            samples.append(t1 - t0)
            timed += t1 - t0
    finally:
        if was_enabled:
            gc.enable()
    return np.asarray(samples, dtype=np.int64)


def measure(runner, x: np.ndarray, method: Method) -> tuple[dict, np.ndarray]:
    """Warm-up and timed calls of runner.predict at x's batch size -> (statistics, raw samples in ns)."""
    batch = x.shape[0]
    if batch == 1:
        warm_up(runner.predict, x, method.warmup, None)
        samples = time_calls(runner.predict, x, method.iterations, 0.0)
    else:
        # At large batches a slow runtime (ExecuTorch portable: ~0.5 s per call at 256) would spend
        # minutes in 100 warm-up calls; warm-up there stops after min_seconds as well.
        warm_up(runner.predict, x, method.warmup, method.min_seconds)
        samples = time_calls(runner.predict, x, method.min_calls, method.min_seconds)
    return stats.summarize(samples, batch, method.cv_warn), samples


def harness_overhead(method: Method) -> dict:
    """The empty call timed exactly like a batch-1 row."""
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    summary, _ = measure(EmptyRunner(), x, method)
    return {"p50_us": summary["p50_us"], "mean_us": summary["mean_us"], "calls": summary["n"]}


def interleaved(calls: dict[str, Callable[[np.ndarray], object]], x: np.ndarray, rounds: int,
                calls_per_round: int, warmup: int) -> dict[str, np.ndarray]:
    """p50 (us) of each call in each round. Within a round the calls take turns (the order reversed
    every other round), so a neighbour's burst of load on a shared machine lands on all of them alike
    and ratios taken round by round cancel it."""
    for call in calls.values():
        warm_up(call, x, warmup, None)
    p50: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            p50[name].append(float(np.median(time_calls(calls[name], x, calls_per_round, 0.0))) / 1000.0)
    return {name: np.asarray(values) for name, values in p50.items()}


# Rounds of the interleaved comparisons below. Calls per round: a fifth of the method's batch-1
# iterations (200 of a full report's 1000), so the two sides alternate every few milliseconds.
# 100 rounds (1-2 s per runtime): a 95% interval of a median over 100 values spans their
# 40th..61st smallest; with 30 the median of a 3 us overhead moved by about 1 us between runs.
OVERHEAD_ROUNDS = 100


def calls_per_round(method: Method) -> int:
    return max(method.iterations // 5, 20)


def runner_overhead(runner, x: np.ndarray, method: Method) -> dict:
    """What a runner's predict() costs beyond its runtime's own call (runner.raw(x)), interleaved:
    the median over rounds of (runner p50 - raw p50 of the same round), so a burst of load that
    slows one round moves both sides of its difference alike, and that median's 95% interval.
    Bound: max(1 us, 10% of the raw call)."""
    per_round = interleaved({"runner": runner.predict, "raw": runner.raw(x)}, x, OVERHEAD_ROUNDS,
                            calls_per_round(method), method.warmup)
    differences = per_round["runner"] - per_round["raw"]
    overhead, raw_us = float(np.median(differences)), float(np.median(per_round["raw"]))
    bound = max(1.0, 0.1 * raw_us)
    return {"batch": int(x.shape[0]), "raw_p50_us": raw_us, "runner_p50_us": float(np.median(per_round["runner"])),
            "overhead_us": overhead, "overhead_ci95": list(stats.median_interval(differences)),
            "bound_us": bound, "within_bound": overhead <= bound,
            "statistic": "median over rounds of (runner p50 - raw p50 of the same round)",
            "rounds": OVERHEAD_ROUNDS, "calls_per_round": calls_per_round(method)}
