"""End to end on real MNIST: every registered format x backend x variant, from one shared export run."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from common import owner
from common.files import sha256_file
from export import executorch, formats, manifest
from export.config import ExportConfig
from export.pipeline import run as export_run
from export.variant import PRUNINGS, QUANTIZATIONS, Variant
from export.verify import FP32_TOLERANCE, SIZE_INT8, SIZE_STRUCTURED_INT8

ALL = [Variant(fmt, backend, quant, pruning)
       for fmt, module in formats.FORMATS.items() for backend in module.BACKENDS
       for pruning in PRUNINGS for quant in QUANTIZATIONS]
# The combinations no format can produce, each listed with its reason: TorchScript scripts no pt2e
# graph and torch.ao's static quantization is deprecated. Any other row must export ok.
UNSUPPORTED = {v.name for v in ALL if v.format in ("torchscript", "torchscript-lite") and v.quantization == "int8-static"}


def rows(manifest_path) -> dict[str, dict]:
    return {a["name"]: a for a in manifest.read(manifest_path)["artifacts"]}


def vectors(manifest_path) -> dict:
    return json.loads((manifest_path.parent / "test_vectors.json").read_text())


def normalized(vec: dict) -> np.ndarray:
    n = vec["normalization"]
    pixels = np.asarray(vec["pixels"], dtype=np.float32).reshape(-1, 1, 28, 28)
    return ((pixels / n["scale"] - n["mean"][0]) / n["std"][0]).astype(np.float32)


@pytest.mark.parametrize("variant", ALL, ids=lambda v: v.name)
def test_artifact_loads_in_its_runtime_within_tolerance(exported, variant):
    row = rows(exported)[variant.name]  # every combination is listed, never silently dropped
    m = manifest.read(exported)
    if variant.name in UNSUPPORTED:
        assert row["status"] == "unsupported" and row["reason"] and row["path"] is None, row
        return
    if row["status"] == "rejected":  # the search found no setting within the budget: it says how close it came
        assert row["reason"] and row["path"] is None and row["search"]["candidates"], row
        return
    assert row["status"] == "ok", f"{variant.name}: {row['reason']}"
    path = manifest.resolve(exported, row)  # also checks sha256 and that the path stays inside
    assert row["size_bytes"] == path.stat().st_size
    runner = formats.get(variant.format).load(path, threads=1)
    vec = vectors(exported)
    logits = runner.predict(normalized(vec))
    assert logits.shape == (vec["count"], len(m["dataset"]["classes"]))
    budget = m["accuracy_budget_pp"] / 100
    assert row["test_accuracy"] >= m["reference"]["test_accuracy"] - budget, row
    if variant.quantization == "none":
        assert row["parity"]["max_abs_diff"] <= FP32_TOLERANCE and row["parity"]["top1_agreement"] == 1.0, row
    if variant == Variant(variant.format, variant.backend):  # dense fp32: must reproduce the vectors
        diff = np.abs(logits - np.asarray(vec["expected_logits"], dtype=np.float32)).max()
        assert diff <= vec["tolerance"]["fp32_max_abs_diff"], f"max abs diff {diff} on the test vectors"
    # 32 easy real test images at >= 97% accuracy: at most 2 wrong for any artifact within budget.
    wrong = int((logits.argmax(1) != np.asarray(vec["labels"])).sum())
    assert wrong <= 2, f"{variant.name} misclassifies {wrong}/32 test vectors"


@pytest.mark.parametrize("variant", [v for v in ALL if v.quantization != "none"], ids=lambda v: v.name)
def test_int8_size_targets(exported, variant):
    r = rows(exported)
    row, fp32 = r[variant.name], r[Variant(variant.format, variant.backend).name]
    if variant.name in UNSUPPORTED:
        assert row["status"] == "unsupported", row  # listed with its reason; nothing to measure
        return
    if row["status"] == "rejected":  # the search found no setting within the budget: it says how close it came
        assert row["reason"] and row["path"] is None and row["search"]["candidates"], row
        return
    assert row["status"] == "ok" and fp32["status"] == "ok", f"{row['reason']} / {fp32['reason']}"
    limit = SIZE_STRUCTURED_INT8 if variant.pruning == "structured" else SIZE_INT8
    ratio = row["size_bytes"] / fp32["size_bytes"]
    assert ratio <= limit, f"{variant.name} is {ratio:.1%} of {fp32['name']}, target <= {limit:.0%}"


def test_manifest_lists_true_files_and_metadata(exported):
    m = manifest.read(exported)
    root = exported.parent
    assert os.path.islink(root) and root.resolve().parent.name == "artifacts-runs"
    assert root.resolve().name == m["run_id"]
    for row in m["artifacts"]:
        if row["path"] is not None:
            assert sha256_file(root / row["path"]) == row["sha256"]
            assert (root / row["path"]).stat().st_size == row["size_bytes"]
    listed = {row["path"] for row in m["artifacts"] if row["path"]} | {"manifest.json", "test_vectors.json",
                                                                         owner.MARKER}
    assert sorted(p.name for p in root.iterdir()) == sorted(listed)  # no stray or temp files
    assert sha256_file(root / m["test_vectors"]["path"]) == m["test_vectors"]["sha256"]
    assert len(m["checkpoint"]["sha256"]) == 64 and m["versions"]["torch"]
    assert m["input"]["shape"] == ["batch", 1, 28, 28] and m["dataset"]["classes"] == [str(d) for d in range(10)]
    lite = rows(exported)["mlp_torchscript-lite_fp32"]
    assert any("optimize_for_mobile" in n for n in lite["notes"])


def test_vectors_are_real_test_images(exported, data_dir):
    from train import data
    vec = vectors(exported)
    test = data.load_split(data.get_spec("mnist"), data_dir, train=False)
    idx = vec["indices"]
    assert vec["count"] == len(idx) == 32
    assert np.array_equal(np.asarray(vec["pixels"], dtype=np.uint8), test.data[idx].reshape(32, -1).numpy())
    assert vec["labels"] == test.targets[idx].tolist()


def test_an_artifact_that_crashes_its_runtime_fails_its_row_and_the_export_goes_on(trained, data_dir, tmp_path,
                                                                                     monkeypatch):
    """The export loads every artifact it builds to verify it: a build whose file aborts its runtime
    (here ExecuTorch's loader, on a damaged file identifier) is a failed row naming the signal, and the
    formats built after it are still exported and published."""
    real_build = executorch.build

    def build(model, variant, calib, out, **kwargs):
        notes = real_build(model, variant, calib, out, **kwargs)
        good = Path(out).read_bytes()
        Path(out).write_bytes(good[:4] + b"\xf8" * 4 + good[8:])  # a file identifier ExecuTorch's loader aborts on
        return notes

    monkeypatch.setattr(executorch, "build", build)
    out = tmp_path / "artifacts"
    export_run(ExportConfig(checkpoint=trained, out_dir=out, data_dir=data_dir, formats=("executorch", "onnx"),
                            quantizations=("none",), prunings=("none",)), log=lambda line: None)
    by_name = rows(out / "manifest.json")
    for backend in ("xnnpack", "portable"):
        row = by_name[f"mlp_executorch-{backend}_fp32"]
        assert row["status"] == "failed" and "SIGABRT" in row["reason"], row
    assert by_name["mlp_onnx_fp32"]["status"] == "ok"
