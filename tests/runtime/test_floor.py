"""runtime/floor.py: the read bandwidth behind the memory floor, and each row's nearer floor."""
from __future__ import annotations

import pytest

from runtime import floor
from runtime.report.rows import Row


def test_read_bandwidth_is_bytes_over_the_fastest_read():
    assert 1e8 < floor.read_bandwidth(1 << 20, repeats=5) < 1e13  # 0.1 GB/s .. 10 TB/s: a real measurement


def test_each_row_gets_the_floor_nearer_its_p50(monkeypatch):
    monkeypatch.setattr(floor, "read_bandwidth", lambda nbytes: 1e9)  # 1 byte per ns: floor us = bytes / 1000
    compute = {"floor_us": {"1": {"1": 20.0}}}
    near_memory = Row(target="cpu", status="ok", batch=1, threads=1, p50_us=12.0, size_bytes=10_000 - 3176)
    near_compute = Row(target="cpu", status="ok", batch=1, threads=1, p50_us=25.0, size_bytes=1_000 - 3176 + 4000)
    eager = Row(target="cpu", status="ok", batch=1, threads=1, p50_us=100.0)  # no file: checkpoint bytes
    skipped = Row(target="cpu", status="failed", reason="boom", batch=1, threads=1)
    out = floor.add_memory_floor([near_memory, near_compute, eager, skipped], compute, checkpoint_weight_bytes=96_824)
    assert near_memory.memory_floor_us == pytest.approx(10.0) and near_memory.nearer_floor == "memory"
    assert near_memory.over_floor_us == pytest.approx(2.0)
    assert near_compute.nearer_floor == "compute" and near_compute.over_floor_us == pytest.approx(5.0)
    assert eager.memory_floor_us == pytest.approx(100.0) and eager.over_floor_us == pytest.approx(0.0)
    assert skipped.memory_floor_us is None  # nothing timed
    assert set(out["read_gbps"]) == {"10000", "5000", "100000"}


def test_model_flops_are_counted_from_the_model_itself():
    import torch
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    assert floor.model_flops(mlp, (1, 28, 28)) == 2 * (784 * 100 + 100 * 10)
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 26 * 26, 10))
    assert floor.model_flops(conv, (1, 28, 28)) == 2 * (26 * 26 * 4 * 9 + 4 * 26 * 26 * 10)


def test_matmul_size_is_the_side_of_the_timed_matmul(monkeypatch):
    import torch
    sides, real_mm = [], torch.mm
    monkeypatch.setattr(torch, "mm", lambda a, b, **kw: sides.append((a.shape, b.shape)) or real_mm(a, b, **kw))
    result = floor.compute_floor(1000, (1,), [1], 48)
    assert sides and set(sides) == {((48, 48), (48, 48))}
    assert result["matmul"].startswith("torch.mm 48x48")


def test_the_shipped_models_flops():
    from train.model import CNN, MLP
    assert floor.model_flops(MLP(hidden_size=800), (1, 28, 28)) == 2 * (784 * 800 + 800 * 10)
    conv1, conv2 = 28 * 28 * 16 * 1 * 25, 10 * 10 * 32 * 16 * 25  # output positions x channels x kernel
    assert floor.model_flops(CNN(), (1, 28, 28)) == 2 * (conv1 + conv2 + 800 * 128 + 128 * 10)
