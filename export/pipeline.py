"""Export, read top to bottom: checkpoint -> checks -> pruned models -> every format x variant ->
verify each on the 10k test set -> test vectors + manifest -> point `artifacts` at the new run.

A bad checkpoint, config or output folder raises UserError before anything is written. A format
that throws or misses its tolerance becomes a `failed` row and the others still run; the caller
(python -m export) then exits non-zero.
"""
from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import TensorDataset

from common.config import as_dict
from common.errors import UserError, one_line
from common.files import atomic_path, atomic_write_json, sha256_file
from export import formats, manifest, runs, verify
from export.config import ExportConfig
from export.prune import FineTune, Structured, Unstructured, prune
from export.variant import Unsupported, Variant
from train import checkpoint, data

TAMPER_IMAGES = 3  # recomputed test accuracy may differ from the recorded one by this many images (CPU vs CUDA)


@dataclasses.dataclass
class Source:
    """A PyTorch model artifacts are made from: the checkpoint's, or a pruned copy of it."""
    model: torch.nn.Module
    logits: np.ndarray      # its logits on every test image
    accuracy: float
    notes: list[str]


def run(cfg: ExportConfig, log: Callable[[str], None] = print) -> Path:
    """Export everything `cfg` asks for; returns the manifest path (inside the published run folder)."""
    runs.check_out_dir(cfg.out_dir)
    torch.set_num_threads(cfg.threads)  # process-wide: fine-tuning, reference logits, TorchScript runners
    model, ckpt = checkpoint.load_model(cfg.checkpoint)
    ckpt_sha256 = sha256_file(cfg.checkpoint)  # hashed now: what we loaded, even if the file changes later
    spec = data.get_spec(ckpt["dataset"]["name"])
    checkpoint.check_data_files(ckpt, cfg.data_dir)
    test_raw = data.load_split(spec, cfg.data_dir, train=False)
    test_set = data.to_tensors(test_raw, spec)
    reference = make_source(model, test_set, [])
    check_untampered(cfg.checkpoint, ckpt, reference.accuracy, len(test_set))
    log(f"checkpoint {cfg.checkpoint}: fp32 test accuracy {reference.accuracy:.2%} (matches its record)")

    train_set = training_split(ckpt, spec, cfg.data_dir)
    calib = calibration_images(train_set, cfg.calibration_samples, ckpt["train"]["seed"])
    sources = {"none": reference}
    finetune = FineTune(epochs=cfg.finetune_epochs, lr=cfg.finetune_lr, seed=ckpt["train"]["seed"])
    for pruning in cfg.prunings:
        if pruning != "none":
            how = Unstructured(cfg.sparsity) if pruning == "unstructured" else Structured(cfg.structured_ratio)
            pruned, notes = prune(model, how, train_set, finetune)
            sources[pruning] = make_source(pruned, test_set, notes)
            log(f"pruned ({pruning}): PyTorch test accuracy {sources[pruning].accuracy:.2%}; {notes[0]}")

    run_dir = runs.start(cfg.out_dir, runs.new_run_id())
    try:
        vectors = write_test_vectors(run_dir, test_raw, reference.logits, normalization(spec), cfg)
        rows = export_all(cfg, sources, calib, test_set, run_dir, reference.accuracy, spec, log)
        header = manifest_header(cfg, ckpt_sha256, spec, run_dir.name, reference.accuracy, len(test_set), vectors)
        manifest.write(run_dir / "manifest.json", header, rows)
        for f in run_dir.iterdir():
            f.chmod(0o644)  # temp files are created 0600; artifacts are meant to be served and copied
    except BaseException as e:
        runs.abandon(run_dir)  # an unfinished run is never published
        if runs.disk_full(e):
            raise UserError(f"the disk refused a write in {run_dir} ({one_line(e)}); the run is not published and "
                            f"{cfg.out_dir} still points at the previous one: free space and rerun") from None
        raise
    runs.publish(cfg.out_dir, run_dir, cfg.keep_runs)
    return run_dir / "manifest.json"


def check_untampered(path: Path, ckpt: dict[str, Any], accuracy: float, test_count: int) -> None:
    """Tampered or corrupted weights: the checkpoint no longer reproduces its own recorded test accuracy.

    The checkpoint has no signature; its recorded metrics are the only independent witness of
    its weights, and recomputing the accuracy costs nothing since the export needs it anyway.
    """
    recorded = ckpt["metrics"].get("test_accuracy")
    if not isinstance(recorded, float) or abs(recorded - accuracy) * test_count > TAMPER_IMAGES:
        raise UserError(f"checkpoint {path} looks tampered or corrupted: its weights give test accuracy "
                        f"{accuracy:.2%} but it records {recorded!r}; retrain with `python -m train`")


def make_source(model: torch.nn.Module, test_set: TensorDataset, notes: list[str]) -> Source:
    logits = verify.reference_logits(model, test_set)
    accuracy = float((logits.argmax(1) == test_set.tensors[1].numpy()).mean())
    return Source(model, logits, accuracy, notes)


def training_split(ckpt: dict[str, Any], spec: data.DatasetSpec, data_dir: Path) -> TensorDataset:
    """The images the checkpoint trained on: same split (val_size, seed) so val images stay unseen."""
    full = data.to_tensors(data.load_split(spec, data_dir, train=True), spec)
    train_set, _ = data.split_train_val(full, ckpt["train"]["val_size"], ckpt["train"]["seed"])
    return train_set


def calibration_images(train_set: TensorDataset, count: int, seed: int) -> torch.Tensor:
    images = train_set.tensors[0]
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:count]
    return images[pick].contiguous()


def export_all(cfg, sources, calib, test_set, run_dir, reference_accuracy, spec, log) -> list[manifest.Artifact]:
    jobs = [(formats.get(fmt), Variant(fmt, backend, quant, pruning))
            for fmt in cfg.formats for backend in formats.get(fmt).BACKENDS
            for pruning in cfg.prunings for quant in cfg.quantizations]
    rows = []
    for i, (module, variant) in enumerate(jobs, 1):
        row = export_one(module, variant, sources[variant.pruning], calib, test_set, run_dir, cfg,
                         reference_accuracy, build_options(variant.format, cfg, spec))
        rows.append(row)
        result = (f"acc {row.test_accuracy:.2%} diff {row.parity['max_abs_diff']:.2g} "
                  f"{row.size_bytes or 0:>8} B" if row.parity else "")
        log(f"[{i:2d}/{len(jobs)}] {variant.name:<50} {row.status:<11} {result} {row.reason or ''}")
    return rows


def build_options(fmt: str, cfg: ExportConfig, spec: data.DatasetSpec) -> dict[str, Any]:
    """Format-specific keyword arguments to build(); the shared interface stays (model, variant, calib, out)."""
    if fmt == "onnx":
        return {"calibration_method": cfg.calibration_method,
                "metadata": {"class_names": list(spec.classes), "normalization": normalization(spec)}}
    return {}


def export_one(module: ModuleType, variant: Variant, source: Source, calib: torch.Tensor, test_set: TensorDataset,
               run_dir: Path, cfg: ExportConfig, reference_accuracy: float, options: dict[str, Any]) -> manifest.Artifact:
    row = manifest.Artifact(variant.name, variant.format, variant.backend, variant.quantization, variant.pruning,
                            status="ok", notes=list(source.notes), source_model_test_accuracy=source.accuracy)
    out = run_dir / (variant.name + module.EXTENSION)
    start = time.perf_counter()
    try:
        with atomic_path(out) as tmp:
            row.notes += module.build(source.model, variant, calib, tmp, **options)
        check = verify.check(module.load(out, threads=cfg.threads), source.logits, test_set)
    except Unsupported as e:
        out.unlink(missing_ok=True)
        row.status, row.reason = "unsupported", str(e)
        return row
    except Exception as e:  # noqa: BLE001 - a backend throwing is a failed row, the others still run
        out.unlink(missing_ok=True)
        if runs.disk_full(e):
            raise  # the disk's fault, not the format's: the whole run stops and is not published
        row.status, row.reason = "failed", one_line(e)
        return row
    row.seconds = round(time.perf_counter() - start, 2)
    row.test_accuracy = check.test_accuracy
    row.parity = {"max_abs_diff": check.max_abs_diff, "top1_agreement": check.top1_agreement}
    reason = verify.judge(variant, check, reference_accuracy, cfg.fp32_tolerance, cfg.accuracy_budget_pp)
    if reason:
        row.status, row.reason = "failed", f"outside tolerance: {reason}"
        if not cfg.keep_failed:
            out.unlink()
            return row
    row.path, row.sha256, row.size_bytes = out.name, sha256_file(out), out.stat().st_size
    return row


def normalization(spec: data.DatasetSpec) -> dict[str, Any]:
    return {"scale": 255.0, "mean": [spec.mean], "std": [spec.std]}


def write_test_vectors(run_dir: Path, test_raw, logits: np.ndarray, norm: dict[str, Any],
                       cfg: ExportConfig) -> dict[str, Any]:
    """The first N real test images, raw uint8, with labels and the fp32 PyTorch logits."""
    n = min(cfg.test_vectors, len(test_raw.data))
    path = run_dir / "test_vectors.json"
    atomic_write_json(path, {
        "count": n, "input_shape": [1, 28, 28], "normalization": norm, "indices": list(range(n)),
        "labels": test_raw.targets[:n].tolist(), "pixels": test_raw.data[:n].reshape(n, -1).tolist(),
        "expected_logits": logits[:n].tolist(), "tolerance": {"fp32_max_abs_diff": cfg.fp32_tolerance}})
    return {"path": path.name, "sha256": sha256_file(path), "count": n}


def manifest_header(cfg, ckpt_sha256, spec, run_id, reference_accuracy, test_count, vectors) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "checkpoint": {"path": str(cfg.checkpoint), "sha256": ckpt_sha256},
        "dataset": {"name": spec.name, "classes": list(spec.classes)},
        "input": {"name": "input", "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "layout": "NCHW, one grayscale channel, row-major, white digit on black (MNIST convention)",
                  "normalization": normalization(spec)},
        "output": {"name": "logits", "shape": ["batch", len(spec.classes)], "dtype": "float32"},
        "reference": {"test_accuracy": reference_accuracy, "test_count": test_count},
        "accuracy_budget_pp": cfg.accuracy_budget_pp,
        "fp32_tolerance": cfg.fp32_tolerance,
        "versions": manifest.versions(),
        "test_vectors": vectors,
        "config": as_dict(cfg),
    }
