"""runtime/stats.py against values worked out by hand."""
import math

import numpy as np
import pytest

from runtime import stats

US = np.arange(1, 11) * 1000  # 1..10 us, in ns as the harness records them


def test_percentiles_match_hand_computed_linear_interpolation():
    s = stats.summarize(US, batch=1, cv_warn=0.5)
    # p50 of 1..10: halfway between 5 and 6; p90: rank 0.9*9 = 8.1 -> 9 + 0.1*(10-9); p99: rank 8.91 -> 9.91
    assert s["p50_us"] == pytest.approx(5.5)
    assert s["p90_us"] == pytest.approx(9.1)
    assert s["p99_us"] == pytest.approx(9.91)


def test_mean_std_cv_throughput():
    s = stats.summarize(US, batch=32, cv_warn=0.5)
    assert s["mean_us"] == pytest.approx(5.5)
    # sample variance: sum((k - 5.5)^2, k=1..10) / 9 = 82.5 / 9
    assert s["std_us"] == pytest.approx(math.sqrt(82.5 / 9))
    assert s["cv"] == pytest.approx(math.sqrt(82.5 / 9) / 5.5)
    assert s["high_cv"] is True          # 0.55 > 0.5
    assert s["throughput"] == pytest.approx(32 / 5.5e-6)  # 32 images every 5.5 us
    assert s["n"] == 10


def test_trimmed_mean_drops_10_percent_each_side():
    # one outlier of 100 us: the mean moves to 14.5, the middle 80% (2..9) stays at 5.5
    samples = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]) * 1000
    s = stats.summarize(samples, batch=1, cv_warn=10.0)
    assert s["mean_us"] == pytest.approx(14.5)
    assert s["trimmed_mean_us"] == pytest.approx(5.5)
    assert s["high_cv"] is False
    # 20 samples: floor(2.0) = 2 dropped each side -> mean of 3..18 = 10.5
    assert stats.trimmed_mean(np.arange(1, 21)) == pytest.approx(10.5)


def test_constant_samples_have_zero_cv():
    s = stats.summarize(np.full(100, 2500), batch=1, cv_warn=0.1)
    assert (s["p50_us"], s["p99_us"], s["std_us"], s["cv"]) == (2.5, 2.5, 0.0, 0.0)


def test_too_few_samples_is_an_error():
    with pytest.raises(ValueError, match="at least 2"):
        stats.summarize(np.array([1000]), batch=1, cv_warn=0.5)


def test_compute_floor_is_flops_over_the_best_rate_at_or_below_each_thread_count():
    from runtime import floor
    got = floor.floor_from_rates(1_000_000, (1, 32), {1: 50e9, 2: 20e9})
    assert got["floor_us"]["1"]["1"] == pytest.approx(20.0)    # 1e6 FLOP / 50e9 FLOP/s
    assert got["floor_us"]["2"]["32"] == pytest.approx(640.0)  # 2 threads measured slower: 1 thread's rate
    assert got["measured_gflops"] == {"1": 50.0, "2": 20.0}
    assert floor.peak_matmul_flops(64, 1, repeats=2) > 1e8  # a real torch.mm, at least 0.1 GFLOP/s


def test_median_interval_is_the_sign_test_order_statistics():
    assert stats.median_interval(np.arange(30.0)[::-1]) == (9.0, 20.0)  # P(Binomial(30, 1/2) <= 9) = 0.021
    assert stats.median_interval(np.arange(6.0)) == (0.0, 5.0)          # the smallest n with a 95% interval
    with pytest.raises(ValueError, match="too few"):
        stats.median_interval(np.arange(5.0))
