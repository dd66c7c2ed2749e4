"""The training loops' float settings."""
from __future__ import annotations

import copy

import pytest
import torch

from common.numerics import adam, denormals_flushed


def test_denormals_are_zero_inside_the_block_and_ieee_after_it():
    tiny = torch.tensor([1e-40], dtype=torch.float32)  # a denormal: below float32's 1.2e-38
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode")  # x86 (SSE3) and ARM have one
    assert (tiny * 1.0).item() > 0
    with denormals_flushed():
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() > 0


def test_the_training_loops_adam_is_fused_and_steps_like_torchs_default_adam():
    torch.manual_seed(0)
    fused = torch.nn.Linear(8, 4)
    plain, start = copy.deepcopy(fused), copy.deepcopy(fused)
    x = torch.randn(16, 8)
    optimizers = {fused: adam(fused.parameters(), 1e-2), plain: torch.optim.Adam(plain.parameters(), lr=1e-2)}
    for model, optimizer in optimizers.items():
        for _ in range(3):
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
    assert optimizers[fused].defaults["fused"] is True
    assert not torch.allclose(fused.weight, start.weight)  # three steps moved it
    assert all(torch.allclose(p, q, atol=1e-6) for p, q in zip(fused.parameters(), plain.parameters()))
