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


def test_distillation_learns_from_the_teacher_not_the_labels(model_and_data, data_dir):
    """Fine-tuned on shuffled labels, a pruned model trained on the labels alone (distill 0) drifts
    from the unpruned model's predictions; with the teacher's term alone (distill 1) it follows the
    teacher, labels or not. Agreement is counted on held-out test images."""
    model, train_set = model_and_data
    images, labels = train_set.tensors
    shuffled = torch.utils.data.TensorDataset(images, labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))])
    test_images = data.load_test_set(data.get_spec("mnist"), data_dir).tensors[0][:2000]
    with torch.no_grad():
        teacher = model(test_images).argmax(1)

    def agreement(distill: float) -> tuple[float, list[str]]:
        pruned, notes = prune(model, Structured(ratio=0.5), shuffled, FineTune(epochs=1, distill=distill))
        with torch.no_grad():
            return (pruned(test_images).argmax(1) == teacher).float().mean().item(), notes

    (labels_only, _), (teacher_only, notes) = agreement(0.0), agreement(1.0)
    assert teacher_only > 0.95 > labels_only + 0.1, (teacher_only, labels_only)
    assert "distilled from the unpruned model" in notes[1]


@pytest.mark.parametrize("bad", [lambda: Unstructured(sparsity=1.0), lambda: Structured(ratio=-0.1),
                                 lambda: FineTune(epochs=-1), lambda: FineTune(distill=1.5)])
def test_configs_validate(bad):
    with pytest.raises(ValueError):
        bad()
