"""Pruning on a real trained model and real training images: the structure changes as promised."""
from __future__ import annotations

import pytest
import torch

from export.prune import FineTune, Structured, Unstructured, prune
from train import data
from train.checkpoint import load_model
from train.model import CNN


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


def test_structured_keeps_the_mlp_units_with_the_largest_input_times_output_norm(model_and_data):
    """The MLP's ranking, ||fc1 row|| * ||fc2 column||, through Torch-Pruning's dependency graph: kept
    units are exact copies, in their original order."""
    model, train_set = model_and_data
    hidden = model.fc1.out_features
    keep_n = max(1, round(hidden * 0.17))
    pruned, notes = prune(model, Structured(ratio=1 - keep_n / hidden), train_set, FineTune(epochs=0))
    keep = (model.fc1.weight.norm(dim=1) * model.fc2.weight.norm(dim=0)).topk(keep_n).indices.sort().values
    assert torch.equal(pruned.fc1.weight, model.fc1.weight[keep]) and torch.equal(pruned.fc1.bias, model.fc1.bias[keep])
    assert torch.equal(pruned.fc2.weight, model.fc2.weight[:, keep]) and torch.equal(pruned.fc2.bias, model.fc2.bias)
    assert f"fc1 {hidden} -> {keep_n}" in notes[0]


def cnn_with_dead_half(seed: int = 0) -> CNN:
    """A CNN whose every second conv channel and hidden unit is dead (all its weights and its bias 0):
    the weakest half by any norm, and removing it cannot change a single logit."""
    torch.manual_seed(seed)
    cnn = CNN().eval()
    with torch.no_grad():
        for layer in (cnn.conv1, cnn.conv2, cnn.fc1):
            layer.weight[1::2] = 0
            layer.bias[1::2] = 0
    return cnn


def test_structured_removes_coupled_conv_channels_and_units_together(model_and_data, data_dir):
    """conv1's channels are conv2's inputs; conv2's are 25 inputs each of fc1 after the 5x5 flatten;
    fc1's units are fc2's inputs. Removing the dead half of each leaves every logit as it was, on real images."""
    _, train_set = model_and_data
    cnn = cnn_with_dead_half()
    pruned, notes = prune(cnn, Structured(ratio=0.5), train_set, FineTune(epochs=0))
    assert (pruned.conv1.out_channels, pruned.conv2.in_channels, pruned.conv2.out_channels) == (8, 8, 16)
    assert (pruned.fc1.in_features, pruned.fc1.out_features, pruned.fc2.in_features) == (16 * 25, 64, 64)
    assert pruned.fc2.out_features == 10  # the output layer is never narrowed
    images = data.load_test_set(data.get_spec("mnist"), data_dir).tensors[0][:500]
    with torch.no_grad():
        assert torch.allclose(pruned(images), cnn(images), atol=1e-5)
    assert "conv1 16 -> 8, conv2 32 -> 16, fc1 128 -> 64" in notes[0]


def test_unstructured_reaches_every_conv_and_linear_weight(model_and_data):
    _, train_set = model_and_data
    torch.manual_seed(0)
    pruned, notes = prune(CNN(), Unstructured(sparsity=0.8), train_set, FineTune(epochs=0))
    weights = [pruned.conv1.weight, pruned.conv2.weight, pruned.fc1.weight, pruned.fc2.weight]
    assert abs(float(sum((w == 0).sum() for w in weights)) / sum(w.numel() for w in weights) - 0.8) < 1e-3
    assert all((w == 0).any() for w in weights) and "conv1+conv2+fc1+fc2" in notes[0]


def test_a_user_class_prunes_through_the_same_path(model_and_data):
    from tests.train.user_models import TinyNet
    _, train_set = model_and_data
    torch.manual_seed(0)
    pruned, notes = prune(TinyNet(width=8), Structured(ratio=0.5), train_set, FineTune(epochs=1))
    assert pruned.features[0].out_channels == 4 and pruned.hidden.out_features == 16 and pruned.head.out_features == 10
    assert pruned(torch.zeros(3, 1, 28, 28)).shape == (3, 10) and "features.0 8 -> 4" in notes[0]


@pytest.mark.parametrize("bad", [lambda: Unstructured(sparsity=1.0), lambda: Structured(ratio=-0.1),
                                 lambda: FineTune(epochs=-1), lambda: FineTune(distill=1.5)])
def test_configs_validate(bad):
    with pytest.raises(ValueError):
        bad()
