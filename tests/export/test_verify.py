"""The verification bounds, stated beside the check."""
from __future__ import annotations

from export.variant import Variant
from export.verify import Check, judge

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
