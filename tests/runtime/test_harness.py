"""runtime/harness.py: call counts, the time budget at larger batches, and the harness's own overhead."""
import time

import numpy as np

from runtime import harness

METHOD = harness.Method(warmup=5, iterations=50, min_seconds=0.03, min_calls=3, cv_warn=0.5)


class Counting:
    def __init__(self, sleep_s: float = 0.0):
        self.calls, self.sleep_s = 0, sleep_s

    def predict(self, x):
        self.calls += 1
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return x


def test_batch_1_times_exactly_the_iterations_after_the_warmup():
    runner = Counting()
    summary, samples = harness.measure(runner, np.zeros((1, 1, 28, 28), np.float32), METHOD)
    assert len(samples) == summary["n"] == 50
    assert runner.calls == 55


def test_larger_batches_are_timed_for_at_least_min_seconds():
    runner = Counting(sleep_s=0.002)
    summary, samples = harness.measure(runner, np.zeros((32, 1, 28, 28), np.float32), METHOD)
    assert samples.sum() >= 0.03e9 and len(samples) >= 3
    assert summary["p50_us"] >= 2000  # each call slept 2 ms
    assert summary["throughput"] <= 32 / 0.002


def test_overhead_of_an_empty_call_is_small_and_reported():
    overhead = harness.harness_overhead(METHOD)
    assert overhead["calls"] == 50
    assert 0 < overhead["p50_us"] < 50  # an empty Python call plus two clock reads


def test_load_and_first_call_are_timed_in_ms():
    def slow_load():  # a load that takes 20 ms: the harness must count all of it
        time.sleep(0.02)
        return Counting(sleep_s=0.01)
    runner, load_ms = harness.load_timed(slow_load)
    assert 20 <= load_ms < 1000
    assert harness.first_call_ms(runner, np.zeros((1, 1, 28, 28), np.float32)) >= 10


def test_warm_up_at_larger_batches_also_stops_after_min_seconds():
    runner = Counting(sleep_s=0.02)
    method = harness.Method(warmup=100, iterations=50, min_seconds=0.03, min_calls=3, cv_warn=0.5)
    _, samples = harness.measure(runner, np.zeros((32, 1, 28, 28), np.float32), method)
    warm = runner.calls - len(samples)
    assert 2 <= warm <= 3  # 100 warm-up calls of 20 ms would be 2 s; the cap ends it after ~30 ms


def test_interleaved_rounds_alternate_the_order_and_time_each_call_alike():
    order = []
    calls = {name: (lambda x, n=name: order.append(n)) for name in ("a", "b")}
    p50 = harness.interleaved(calls, np.zeros((1, 1, 28, 28), np.float32), rounds=4, calls_per_round=3, warmup=2)
    assert {k: len(v) for k, v in p50.items()} == {"a": 4, "b": 4}
    timed = order[4:]  # after 2 warm-up calls each
    assert timed == ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3 + ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3


class Wrapped:
    """predict() = the raw call plus a fixed extra cost, as a runner's conversions are."""

    def __init__(self, extra_s: float):
        self.extra_s = extra_s

    def raw(self, x):
        return lambda _: time.sleep(0.0005)

    def predict(self, x):
        time.sleep(0.0005 + self.extra_s)
        return x


def test_runner_overhead_is_the_difference_to_the_raw_call_and_checked_against_its_bound():
    x = np.zeros((1, 1, 28, 28), np.float32)
    method = harness.Method(warmup=2, iterations=100, min_seconds=0, min_calls=2, cv_warn=1.0)
    slow = harness.runner_overhead(Wrapped(extra_s=0.001), x, method)
    assert slow["calls_per_round"] == 20 and slow["rounds"] == harness.OVERHEAD_ROUNDS
    assert slow["overhead_us"] >= 900 and slow["bound_us"] >= 1.0  # 1 ms added, 10% of >= 500 us allowed
    assert not slow["within_bound"]
    assert slow["raw_p50_us"] >= 500 and slow["runner_p50_us"] >= slow["raw_p50_us"] + 900
