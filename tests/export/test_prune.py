"""Pruning on a real trained model and real training images: the structure changes as promised."""
from __future__ import annotations

import pytest
import torch

from export.prune import FineTune, Structured, Unstructured, prune
from train import data
from train.checkpoint import load_model


@pytest.fixture(scope="module")
def model_and_data(trained, data_dir):
    model, _ = load_model(trained)
    spec = data.get_spec("mnist")
    full = data.to_tensors(data.load_split(spec, data_dir, train=True), spec)
    small = torch.utils.data.TensorDataset(*(t[:2000] for t in full.tensors))  # a quick fine-tune
    return model, small


def test_unstructured_zeroes_the_smallest_weights_permanently(model_and_data):
    model, train_set = model_and_data
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned, notes = prune(model, Unstructured(sparsity=0.8), train_set, FineTune(epochs=1))
    weights = torch.cat([pruned.fc1.weight.flatten(), pruned.fc2.weight.flatten()])
    assert abs((weights == 0).float().mean().item() - 0.8) < 1e-3  # global: 80% over both layers together
    assert not hasattr(pruned.fc1, "weight_orig") and not pruned.fc1._forward_pre_hooks  # mask made permanent
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # input model untouched
    assert "80.0%" in notes[0]


def test_structured_builds_smaller_linear_layers(model_and_data):
    model, train_set = model_and_data
    pruned, notes = prune(model, Structured(ratio=0.5), train_set, FineTune(epochs=0))
    hidden = model.fc1.out_features
    assert pruned.fc1.weight.shape == (hidden // 2, 784) and pruned.fc2.weight.shape == (10, hidden // 2)
    # Without fine-tuning, kept units are exact copies of the originals.
    assert any(torch.equal(pruned.fc1.weight[0], row) for row in model.fc1.weight)


@pytest.mark.parametrize("bad", [lambda: Unstructured(sparsity=1.0), lambda: Structured(ratio=-0.1),
                                 lambda: FineTune(epochs=-1)])
def test_configs_validate(bad):
    with pytest.raises(ValueError):
        bad()
