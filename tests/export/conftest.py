"""Checkpoints of models other than the MLP, each trained on a fraction of an epoch of real MNIST:
what tests/export/test_models.py exports (the MLP's `trained` is in tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import built_once
from train.config import TrainConfig
from train.train import fit


@pytest.fixture(scope="session")
def trained_cnn(tmp_path_factory, data_dir) -> Path:
    """The CNN after 6k training images (one pass over a tenth of the split: ~95% test accuracy, ~10 s)."""
    def build(out: Path) -> Path:
        fit(TrainConfig(data_dir=data_dir, out_dir=out, model="cnn", epochs=1, train_samples=6000))
        return out / "cnn.pt"
    return built_once(tmp_path_factory, "cnn-checkpoints", build)


@pytest.fixture(scope="session")
def trained_user_model(tmp_path_factory, data_dir) -> Path:
    """tests.train.user_models:TinyNet, named by import path, after 6k training images."""
    def build(out: Path) -> Path:
        fit(TrainConfig(data_dir=data_dir, out_dir=out, model="tests.train.user_models:TinyNet",
                        model_args={"width": 8}, epochs=1, train_samples=6000))
        return out / "tinynet.pt"
    return built_once(tmp_path_factory, "user-checkpoints", build)
