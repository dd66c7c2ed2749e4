"""Each format's int8 recipes (what the search tries when the plain one misses) build, load and keep
accuracy on real validation images, and do what their setting says."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from torch.utils.data import TensorDataset

from export import formats
from export import onnx as onnx_format
from export import torchscript
from export.pipeline import splits
from export.variant import QuantRecipe, Variant
from train import data
from train.checkpoint import load_model

# Non-plain recipes of every format (the plain ones are built by the shared default export).
# ExecuTorch portable runs the same pt2e quantizer as xnnpack, so only xnnpack is built here.
CASES = [(fmt, backend, quant, recipe)
         for fmt, backend in (("torchscript", "cpu"), ("onnx", "cpu"), ("executorch", "xnnpack"))
         for quant in ("int8-dynamic", "int8-static") if not (fmt == "torchscript" and quant == "int8-static")
         for recipe in formats.get(fmt).recipes(quant, output_layer="fc2")[1:]]  # fc2: the MLP's output layer


@pytest.fixture(scope="module")
def setup(trained, data_dir):
    model, ckpt = load_model(trained)
    train_set, val_set = splits(ckpt, data.get_spec("mnist"), data_dir)
    small_train = TensorDataset(*(t[:2000] for t in train_set.tensors))  # QAT: a short real run
    calib = train_set.tensors[0][:256].contiguous()
    with torch.no_grad():
        fp32 = float((model(val_set.tensors[0]).argmax(1) == val_set.tensors[1]).float().mean())
    return model, small_train, val_set, calib, fp32


@pytest.mark.parametrize("fmt,backend,quant,recipe", CASES,
                         ids=[f"{f}-{b}-{q}-{r.calibration}-{'pc' if r.per_channel else 'pt'}"
                              f"{'-fp32' + '+'.join(r.fp32_layers) if r.fp32_layers else ''}"
                              f"{'-qat' if r.qat_epochs else ''}" for f, b, q, r in CASES])
def test_recipe_builds_and_keeps_accuracy(setup, tmp_path, fmt, backend, quant, recipe):
    model, train_set, val_set, calib, fp32 = setup
    module, variant = formats.get(fmt), Variant(fmt, backend, quant)
    out = tmp_path / ("m" + module.EXTENSION)
    options = {"train_set": train_set} if fmt == "executorch" else {}
    notes = module.build(model, variant, calib, out, recipe=recipe, **options)
    logits = module.load(out, threads=1).predict(np.ascontiguousarray(val_set.tensors[0][:2000].numpy()))
    accuracy = float((logits.argmax(1) == val_set.tensors[1][:2000].numpy()).mean())
    assert accuracy >= fp32 - 0.01, f"{notes}: val accuracy {accuracy:.2%} vs fp32 {fp32:.2%}"  # int8: ~0.1 pp
    text = " ".join(notes)
    assert ("per-channel" if recipe.per_channel else "per-tensor") in text
    if recipe.fp32_layers:
        assert "left in fp32" in text
    if recipe.qat_epochs:
        assert "quantization-aware training" in text


def test_onnx_mixed_precision_leaves_fc2_a_float_gemm(setup, tmp_path):
    model, _, _, calib, _ = setup
    out = tmp_path / "m.onnx"
    onnx_format.build(model, Variant("onnx", "cpu", "int8-static"), calib, out,
                      recipe=QuantRecipe(fp32_layers=("fc2",)))
    proto = onnx.load(str(out))
    init = {i.name: i for i in proto.graph.initializer}
    float_weight = [n.input[1] in init and init[n.input[1]].data_type == onnx.TensorProto.FLOAT
                    for n in proto.graph.node if n.op_type == "Gemm"]
    # fc1's weight reaches its Gemm through DequantizeLinear (int8); fc2's is a plain float initializer
    assert float_weight == [False, True]


def test_torchscript_mixed_precision_quantizes_only_fc1(setup):
    model = setup[0]
    q = torchscript.quantized(model, "int8-dynamic", QuantRecipe(calibration="dynamic", fp32_layers=("fc2",)))
    assert type(q.fc2) is torch.nn.Linear and type(q.fc1) is not torch.nn.Linear


def test_recipe_settings_validate():
    with pytest.raises(ValueError):
        QuantRecipe(fp32_layers=("",))
    with pytest.raises(ValueError):
        QuantRecipe(qat_epochs=-1)


def test_the_layer_left_in_fp32_is_the_output_layer_named():
    for fmt in ("torchscript", "onnx", "executorch"):
        mixed = [r for r in formats.get(fmt).recipes("int8-dynamic", output_layer="head") if r.fp32_layers]
        assert [r.fp32_layers for r in mixed] == [("head",)]
        assert not any(r.fp32_layers for r in formats.get(fmt).recipes("int8-dynamic"))  # no layer named, none left
