"""runtime/harness.py: call counts, the time budget at larger batches, and the harness's own overhead.

Runners that take time take it on a fake clock (tests/conftest.py FakeTime): the harness's logic
is tested exactly and instantly; only the harness's own overhead is timed for real."""
import numpy as np
import pytest

from runtime import harness
from tests.conftest import FakeTime

METHOD = harness.Method(warmup=5, iterations=50, min_seconds=0.03, min_calls=3, cv_warn=0.5)


@pytest.fixture
def clock(monkeypatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(harness, "time", fake)
    return fake


class Counting:
    def __init__(self, clock: FakeTime | None = None, work_s: float = 0.0):
        self.calls, self.clock, self.work_s = 0, clock, work_s

    def predict(self, x):
        self.calls += 1
        if self.clock:
            self.clock.work(self.work_s)
        return x


def test_batch_1_times_exactly_the_iterations_after_the_warmup():
    runner = Counting()
    summary, samples = harness.measure(runner, np.zeros((1, 1, 28, 28), np.float32), METHOD)
    assert len(samples) == summary["n"] == 50
    assert runner.calls == 55


def test_larger_batches_are_timed_for_at_least_min_seconds(clock):
    runner = Counting(clock, work_s=0.002)
    summary, samples = harness.measure(runner, np.zeros((32, 1, 28, 28), np.float32), METHOD)
    assert samples.sum() == 0.03e9 and len(samples) == 15  # 15 calls of 2 ms reach 30 ms
    assert summary["p50_us"] == 2000
    assert summary["throughput"] == pytest.approx(32 / 0.002)


def test_overhead_of_an_empty_call_is_small_and_reported():
    overhead = harness.harness_overhead(METHOD)
    assert overhead["calls"] == 50
    assert 0 < overhead["p50_us"] < 50  # an empty Python call plus two clock reads


def test_load_and_first_call_are_timed_in_ms(clock):
    def slow_load():  # a load that takes 20 ms: the harness must count all of it
        clock.work(0.02)
        return Counting(clock, work_s=0.01)
    runner, load_ms = harness.load_timed(slow_load)
    assert load_ms == 20
    assert harness.first_call_ms(runner, np.zeros((1, 1, 28, 28), np.float32)) == 10


def test_warm_up_at_larger_batches_also_stops_after_min_seconds(clock):
    runner = Counting(clock, work_s=0.02)
    method = harness.Method(warmup=100, iterations=50, min_seconds=0.03, min_calls=3, cv_warn=0.5)
    _, samples = harness.measure(runner, np.zeros((32, 1, 28, 28), np.float32), method)
    warm = runner.calls - len(samples)
    assert warm == 2  # 100 warm-up calls of 20 ms would be 2 s; the cap ends it once 30 ms have passed


def test_interleaved_rounds_alternate_the_order_and_time_each_call_alike():
    order = []
    calls = {name: (lambda x, n=name: order.append(n)) for name in ("a", "b")}
    p50 = harness.interleaved(calls, np.zeros((1, 1, 28, 28), np.float32), rounds=4, calls_per_round=3, warmup=2)
    assert {k: len(v) for k, v in p50.items()} == {"a": 4, "b": 4}
    timed = order[4:]  # after 2 warm-up calls each
    assert timed == ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3 + ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3


class Wrapped:
    """predict() = the raw call plus a fixed extra cost, as a runner's conversions are."""

    def __init__(self, clock: FakeTime, extra_s: float):
        self.clock, self.extra_s = clock, extra_s

    def raw(self, x):
        return lambda _: self.clock.work(0.0005)

    def predict(self, x):
        self.clock.work(0.0005 + self.extra_s)
        return x


def test_runner_overhead_is_the_difference_to_the_raw_call_and_checked_against_its_bound(clock):
    x = np.zeros((1, 1, 28, 28), np.float32)
    method = harness.Method(warmup=2, iterations=100, min_seconds=0, min_calls=2, cv_warn=1.0)
    slow = harness.runner_overhead(Wrapped(clock, extra_s=0.001), x, method)
    assert slow["calls_per_round"] == 20 and slow["rounds"] == harness.OVERHEAD_ROUNDS
    assert slow["overhead_us"] == pytest.approx(1000) and slow["bound_us"] == pytest.approx(50)  # 10% of 500 us
    assert not slow["within_bound"]
    assert slow["raw_p50_us"] == pytest.approx(500) and slow["runner_p50_us"] == pytest.approx(1500)
    fast = harness.runner_overhead(Wrapped(clock, extra_s=0.00004), x, method)  # 40 us: within 50
    assert fast["overhead_us"] == pytest.approx(40) and fast["within_bound"]
