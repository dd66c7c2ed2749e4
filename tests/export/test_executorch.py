"""ExecuTorch .pte end to end on real MNIST: build each variant, load it in executorch.runtime,
run the full 10k test set, compare with the eager model it was made from.

Cost: six builds (~4-8 s each after a one-off ~15 s torch.export/lowering warm-up) plus a
10k-image pass per artifact; about 1-1.5 min on a busy 2-core machine. Each .pte is built once
per module (the `artifact` fixture caches them).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from common.errors import UserError
from export import executorch as et
from export.variant import Unsupported, Variant
from export.verify import FP32_TOLERANCE, SIZE_INT8
from train.checkpoint import load_model
from train.data import get_spec, load_split, load_test_set, split_train_val, to_tensors
from train.model import MLP

INT8_BUDGET = 0.003           # int8 test accuracy may be at most 0.3 points below fp32 eager
INT8 = [(b, q) for b in et.BACKENDS for q in ("int8-static", "int8-dynamic")]


@pytest.fixture(scope="module")
def source(trained, data_dir):
    """The trained model, 512 calibration images from its training split, and the 10k test set."""
    model, ckpt = load_model(trained)
    spec = get_spec("mnist")
    train_set, _ = split_train_val(to_tensors(load_split(spec, data_dir, train=True), spec),
                                   ckpt["train"]["val_size"], ckpt["train"]["seed"])
    pick = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(0))[:512]
    calib = train_set.tensors[0][pick].contiguous()
    test_x, test_y = load_test_set(spec, data_dir).tensors
    with torch.no_grad():
        logits = model(test_x).numpy()
    return model, calib, test_x.numpy(), test_y.numpy(), logits


@pytest.fixture(scope="module")
def artifact(source, tmp_path_factory):
    """artifact(backend, quantization) -> (path, notes), built on first request."""
    model, calib, *_ = source
    folder, built = tmp_path_factory.mktemp("executorch"), {}

    def get(backend: str, quantization: str) -> tuple[Path, list[str]]:
        if (backend, quantization) not in built:
            variant = Variant("executorch", backend, quantization)
            path = folder / (variant.name + et.EXTENSION)
            start = time.perf_counter()
            notes = et.build(model, variant, calib, path)
            print(f"built {path.name}: {time.perf_counter() - start:.1f} s, {path.stat().st_size} B")
            built[backend, quantization] = path, notes
        return built[backend, quantization]
    return get


@pytest.mark.parametrize("backend", et.BACKENDS)
def test_fp32_matches_eager_on_the_test_set(artifact, source, backend):
    _, _, test_x, _, logits = source
    path, notes = artifact(backend, "none")
    out = et.load(path).predict(test_x)
    assert out.dtype == np.float32 and out.shape == logits.shape
    diff = float(np.abs(out - logits).max())
    assert diff <= FP32_TOLERANCE, f"max abs logit diff {diff:.2e} > {FP32_TOLERANCE}"
    assert (out.argmax(1) == logits.argmax(1)).all(), "top-1 differs from eager on some test images"
    assert any("dynamic batch" in n for n in notes)


def test_xnnpack_takes_both_linear_layers(artifact):
    _, notes = artifact("xnnpack", "none")
    delegation = [n for n in notes if n.startswith("XNNPACK delegated")]
    assert delegation and "addmm" not in delegation[0] and "linear" not in delegation[0], notes


@pytest.mark.parametrize("backend,quantization", INT8)
def test_int8_keeps_accuracy_and_shrinks_the_file(artifact, source, backend, quantization):
    _, _, test_x, test_y, logits = source
    path, notes = artifact(backend, quantization)
    accuracy = float((et.load(path).predict(test_x).argmax(1) == test_y).mean())
    reference = float((logits.argmax(1) == test_y).mean())
    assert accuracy >= reference - INT8_BUDGET, f"int8 accuracy {accuracy:.4f} vs fp32 eager {reference:.4f}"
    ratio = path.stat().st_size / artifact(backend, "none")[0].stat().st_size
    assert ratio <= SIZE_INT8, f"{path.name} is {ratio:.1%} of the fp32 .pte"
    assert any(n.startswith(f"pt2e {quantization}") for n in notes)


def test_structurally_pruned_model_exports(source, tmp_path):
    """A smaller hidden layer (what structured pruning makes) goes through the same path."""
    model, calib, test_x, _, _ = source
    small = MLP(hidden_size=400).eval()
    with torch.no_grad():  # keep the first 400 trained hidden units: real weights, fewer of them
        small.fc1.weight.copy_(model.fc1.weight[:400])
        small.fc1.bias.copy_(model.fc1.bias[:400])
        small.fc2.weight.copy_(model.fc2.weight[:, :400])
        small.fc2.bias.copy_(model.fc2.bias)
        expected = small(torch.from_numpy(test_x[:1000])).numpy()
    path = tmp_path / "small.pte"
    et.build(small, Variant("executorch", "xnnpack"), calib, path)
    assert np.abs(et.load(path).predict(test_x[:1000]) - expected).max() <= FP32_TOLERANCE


@pytest.mark.parametrize("batch", [1, 7, 256, et.MAX_BATCH + 3])
def test_any_batch_size(artifact, source, batch):
    """Inside the exported bound the program resizes; above it predict() chunks."""
    _, _, test_x, _, logits = source
    runner = et.load(artifact("xnnpack", "none")[0])
    out = runner.predict(test_x[:batch])
    assert out.shape == (batch, 10)
    assert np.abs(out - logits[:batch]).max() <= FP32_TOLERANCE


def test_wrong_input_is_named(artifact, source):
    _, _, test_x, _, _ = source
    runner = et.load(artifact("xnnpack", "none")[0])
    with pytest.raises(TypeError, match="float32"):
        runner.predict(test_x[:2].astype(np.float64))
    with pytest.raises(ValueError, match=r"\[N, 1, 28, 28\]"):
        runner.predict(test_x[:2].reshape(2, 784))
    with pytest.raises(TypeError, match="numpy"):
        runner.predict(torch.from_numpy(test_x[:2]))


def test_unknown_backend_is_unsupported_with_the_choices(source, tmp_path):
    model, calib, *_ = source
    with pytest.raises(Unsupported, match="xnnpack"):
        et.build(model, Variant("executorch", "cpu"), calib, tmp_path / "x.pte")
    assert not (tmp_path / "x.pte").exists()


def test_truncated_pte_is_refused_with_the_fix(artifact, tmp_path):
    whole = artifact("xnnpack", "none")[0].read_bytes()
    broken = tmp_path / "broken.pte"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="python -m export"):
        et.load(broken)


def test_threads_cannot_change_under_a_loaded_program(artifact):
    """XNNPACK keeps a pointer to the pool, so a resize while a program is loaded is refused."""
    runner = et.load(artifact("xnnpack", "none")[0])
    current = et.threadpool()
    assert current >= 1
    assert et.threadpool(current) == current  # same size: nothing to do
    with pytest.raises(ValueError, match="before loading"):
        et.threadpool(current + 1)
    assert et.threadpool() == current and runner.predict(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)
