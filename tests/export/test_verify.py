"""The verification bounds, stated beside the check."""
from __future__ import annotations

import math

from export.variant import Variant
from export.verify import QUANTIZED_CHECK, Check, allowed_flips, judge

FP32 = Variant("onnx", "cpu")
INT8 = Variant("onnx", "cpu", "int8-static")
PRUNED = Variant("onnx", "cpu", pruning="structured")


def test_fp32_needs_tight_parity_and_full_agreement():
    assert judge(FP32, Check(5e-5, 1.0, 0.5), 0.98, 1e-4, 0.3) is None  # accuracy is not fp32's bound
    assert "tolerance" in judge(FP32, Check(2e-4, 1.0, 0.98), 0.98, 1e-4, 0.3)
    assert "agreement" in judge(FP32, Check(1e-6, 0.9999, 0.98), 0.98, 1e-4, 0.3)
    assert judge(FP32, Check(float("nan"), 1.0, 0.98), 0.98, 1e-4, 0.3) is not None


def test_int8_and_pruned_need_accuracy_within_budget():
    assert judge(INT8, Check(3.0, 0.99, 0.9770), 0.98, 1e-4, 0.3) is None   # 0.30 pp below: allowed
    assert "pp below" in judge(INT8, Check(3.0, 0.99, 0.9769), 0.98, 1e-4, 0.3)
    assert "pp below" in judge(PRUNED, Check(0.0, 1.0, 0.9700), 0.98, 1e-4, 0.3)


def _tail(n: int, rate: float, k: int) -> float:
    """P[Binomial(n, rate) > k] by the textbook sum, independent of allowed_flips' recurrence."""
    log_pmf = (lambda j: math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1)
               + j * math.log(rate) + (n - j) * math.log1p(-rate))
    return sum(math.exp(log_pmf(j)) for j in range(k + 1, n + 1))


def test_allowed_flips_is_the_smallest_count_within_the_false_alarm():
    rate, alarm = QUANTIZED_CHECK["max_flip_rate"], QUANTIZED_CHECK["false_alarm"]
    for n in (2, 10, 32, 100, 1000, 10_000):
        k = allowed_flips(n, rate, alarm)
        assert _tail(n, rate, k) <= alarm * (1 + 1e-9) < _tail(n, rate, k - 1) * (1 + 1e-9), n


def test_the_flips_rule_is_not_a_fixed_fraction_of_the_vectors():
    # A fixed 0.9 agreement allows floor(0.1 n) flips: 1 of 10 and 10 of 100, which fails a correct
    # artifact on few vectors far more often than one in 1/false_alarm and waves broken ones through on many.
    flips = {n: allowed_flips(n, **QUANTIZED_CHECK) for n in (10, 32, 100)}
    assert flips == {10: 2, 32: 3, 100: 5}
    assert allowed_flips(1, **QUANTIZED_CHECK) == 1  # one vector cannot tell a flip from a fault
