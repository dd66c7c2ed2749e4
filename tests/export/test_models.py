"""Models other than the MLP through the export stage, from checkpoints trained on a fraction of an
epoch of real MNIST, exporting only the variants each test checks: the CNN (its conv layers pruned
and quantized in every format), a class of a user's named by import path, and a model with an
operator some formats lack (unsupported rows with the reason, not failures)."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from common.errors import run_cli
from export import embed, formats, manifest
from export.__main__ import main as export_main
from export.config import ExportConfig
from export.pipeline import run as export_run
from export.pipeline import splits
from export.variant import QUANTIZATIONS, Variant
from train import data
from train.checkpoint import load_model
from train.config import TrainConfig
from train.train import fit


def rows(manifest_path) -> dict[str, dict]:
    return {a["name"]: a for a in manifest.read(manifest_path)["artifacts"]}


@pytest.fixture(scope="module")
def cnn_onnx(tmp_path_factory, trained_cnn, data_dir):
    """Every ONNX variant of the CNN, dense and structured (half of each layer's channels, not
    fine-tuned: kept even if outside the budget, to look inside)."""
    out = tmp_path_factory.mktemp("cnn") / "artifacts"
    cfg = ExportConfig(checkpoint=trained_cnn, out_dir=out, data_dir=data_dir, formats=("onnx",),
                       quantizations=QUANTIZATIONS, prunings=("none", "structured"), search="off",
                       finetune_epochs=0, keep_failed=True)
    return export_run(cfg, log=lambda line: None)


def test_the_manifest_records_the_model_its_input_and_names_artifacts_after_it(cnn_onnx):
    m = manifest.read(cnn_onnx)
    assert m["model"]["name"] == "cnn" and m["model"]["stem"] == "cnn" and m["model"]["classes"] == 10
    assert m["model"]["args"] == {"conv1_channels": 16, "conv2_channels": 32, "hidden_size": 128, "num_classes": 10}
    assert m["model"]["input"]["shape"] == [1, 28, 28] and m["input"]["shape"] == ["batch", 1, 28, 28]
    assert sorted(rows(cnn_onnx)) == sorted(Variant("onnx", "cpu", q, p, "cnn").name for q in QUANTIZATIONS
                                            for p in ("none", "structured"))
    fp32 = rows(cnn_onnx)["cnn_onnx_fp32"]
    assert fp32["status"] == "ok" and fp32["parity"]["top1_agreement"] == 1.0
    assert embed.default_names(m)[2:] == ("cnn_onnx_fp32", "cnn_onnx_int8-static")


def graph(manifest_path, row) -> onnx.GraphProto:
    return onnx.load(str(manifest.resolve(manifest_path, row))).graph


def test_onnx_int8_quantizes_the_conv_layers_too(cnn_onnx):
    r = rows(cnn_onnx)
    fp32_size = r["cnn_onnx_fp32"]["size_bytes"]
    for name in ("cnn_onnx_int8-dynamic", "cnn_onnx_int8-static"):
        assert r[name]["status"] == "ok", r[name]["reason"]
        assert r[name]["size_bytes"] <= 0.30 * fp32_size, (name, r[name]["size_bytes"], fp32_size)
    dynamic = [n.op_type for n in graph(cnn_onnx, r["cnn_onnx_int8-dynamic"]).node]
    assert dynamic.count("ConvInteger") == 2 and dynamic.count("MatMulInteger") == 2
    static = graph(cnn_onnx, r["cnn_onnx_int8-static"])
    producers = {out: n.op_type for n in static.node for out in n.output}
    conv_weights = [producers.get(n.input[1]) for n in static.node if n.op_type == "Conv"]
    assert conv_weights == ["DequantizeLinear", "DequantizeLinear"]  # QDQ: int8 weights for both convs


def test_structured_pruning_narrows_the_convs_in_the_artifact(cnn_onnx):
    row = rows(cnn_onnx)["cnn_onnx_fp32_structured"]
    assert row["path"] and "conv1 16 -> 8, conv2 32 -> 16, fc1 128 -> 64" in row["notes"][0]
    shapes = {i.name: list(i.dims) for i in graph(cnn_onnx, row).initializer}
    assert [1 * 8 * 5 * 5, 8 * 16 * 5 * 5] == [np.prod(s) for s in shapes.values() if len(s) == 4]


@pytest.fixture(scope="module")
def cnn_and_data(trained_cnn, data_dir):
    model, ckpt = load_model(trained_cnn)
    train_set, val_set = splits(ckpt, data.get_spec("mnist"), data_dir)
    images, labels = val_set.tensors[0][:2000], val_set.tensors[1][:2000]
    with torch.no_grad():
        fp32 = float((model(images).argmax(1) == labels).float().mean())
    return model, train_set.tensors[0][:256].contiguous(), images.numpy(), labels.numpy(), fp32


@pytest.mark.parametrize("fmt, backend, quantization, fp32_note", [
    ("torchscript", "cpu", "int8-dynamic", "conv1, conv2 stay fp32: torch.ao dynamic quantization quantizes only linear"),
    ("executorch", "xnnpack", "int8-dynamic", "conv1, conv2 stay fp32: XNNPACKQuantizer's int8-dynamic recipe"),
    ("executorch", "xnnpack", "int8-static", None),
])
def test_the_cnn_in_torchscript_and_executorch(cnn_and_data, tmp_path, fmt, backend, quantization, fp32_note):
    model, calib, images, labels, fp32 = cnn_and_data
    module = formats.get(fmt)
    out = tmp_path / ("cnn" + module.EXTENSION)
    notes = module.build(model, Variant(fmt, backend, quantization, model="cnn"), calib, out)
    accuracy = float((module.load(out, threads=1).predict(images).argmax(1) == labels).mean())
    assert accuracy >= fp32 - 0.01, (notes, accuracy, fp32)  # int8 costs ~0.1 pp; 2000 images
    text = " ".join(notes)
    if fp32_note:
        assert fp32_note in text  # the manifest says which layers int8 left in fp32, and why
    else:
        assert "stay fp32" not in text and "only the flatten" in text  # every conv and linear in XNNPACK, int8
        fp32_file = tmp_path / "fp32.pte"
        module.build(model, Variant(fmt, backend, model="cnn"), calib, fp32_file)
        assert out.stat().st_size <= 0.30 * fp32_file.stat().st_size


def test_a_user_class_named_by_import_path_goes_through_export_and_embed(trained_user_model, data_dir, tmp_path):
    out = tmp_path / "artifacts"
    argv = ["--checkpoint", trained_user_model, "--out-dir", out, "--data-dir", data_dir, "--formats",
            "torchscript,onnx", "--quantizations", "none,int8-static", "--prunings", "none,structured",
            "--search", "off", "--finetune-epochs", "0", "--keep-failed", "true"]
    code = run_cli(export_main, [str(a) for a in argv])
    assert code == 0
    m = manifest.read(out / "manifest.json")
    r = rows(out / "manifest.json")
    assert m["model"]["name"] == "tests.train.user_models:TinyNet" and m["model"]["args"] == {"width": 8, "num_classes": 10}
    assert r["tinynet_onnx_fp32"]["status"] == r["tinynet_torchscript_fp32"]["status"] == "ok"
    assert r["tinynet_onnx_int8-static"]["status"] in ("ok", "rejected") and r["tinynet_onnx_int8-static"]["path"]
    assert "features.0 8 -> 4, hidden 32 -> 16" in r["tinynet_onnx_fp32_structured"]["notes"][0]
    done = embed.embed(out / "manifest.json", assets_dir=tmp_path / "assets", web_dir=tmp_path / "web")
    assert done[0] == "tinynet_onnx_fp32"


def test_what_a_format_or_the_model_cannot_do_is_an_unsupported_row_with_the_reason(tmp_path, data_dir):
    """ErfInv: an operator the ONNX exporter and ExecuTorch lack, and one linear layer, its output layer,
    so nothing for structured pruning to narrow."""
    fit(TrainConfig(data_dir=data_dir, out_dir=tmp_path, model="tests.train.user_models:ErfInv", epochs=1,
                    train_samples=2000))
    cfg = ExportConfig(checkpoint=tmp_path / "erfinv.pt", out_dir=tmp_path / "artifacts", data_dir=data_dir,
                       quantizations=("none",), prunings=("none", "structured"), search="off")
    r = rows(export_run(cfg, log=lambda line: None))
    structured = [a for a in r.values() if a["pruning"] == "structured"]
    assert len(structured) == 5
    assert all(a["status"] == "unsupported" and "this model has none" in a["reason"] for a in structured)
    assert r["erfinv_torchscript_fp32"]["status"] == "ok" and r["erfinv_torchscript-lite_fp32"]["status"] == "ok"
    assert r["erfinv_onnx_fp32"]["status"] == "unsupported"
    assert "the ONNX exporter cannot translate this model: No ONNX function found" in r["erfinv_onnx_fp32"]["reason"]
    for backend in ("xnnpack", "portable"):
        row = r[f"erfinv_executorch-{backend}_fp32"]
        assert row["status"] == "unsupported" and "aten.erfinv.default is not in Core ATen" in row["reason"], row
