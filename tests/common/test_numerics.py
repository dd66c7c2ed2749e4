"""The training loops' float settings."""
from __future__ import annotations

import pytest
import torch

from common.numerics import denormals_flushed


def test_denormals_are_zero_inside_the_block_and_ieee_after_it():
    tiny = torch.tensor([1e-40], dtype=torch.float32)  # a denormal: below float32's 1.2e-38
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode")  # x86 (SSE3) and ARM have one
    assert (tiny * 1.0).item() > 0
    with denormals_flushed():
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() > 0
