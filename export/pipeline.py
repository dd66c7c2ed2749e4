"""Export, read top to bottom: checkpoint -> checks -> pruned models (searched on the validation
split, export.search) -> every format x variant, each built and judged on validation until one
passes -> verify it on the 10k test set -> test vectors + manifest -> point `artifacts` at the new run.

Any model the checkpoint names: it is rebuilt from the checkpoint's record (train.model_spec), its
layers read from the model itself (export/layers.py). A bad checkpoint, config or output folder,
or a model torch.export cannot trace, raises UserError before anything is written. A format
that throws, crashes its runtime (each built file is loaded first in a child process,
export.isolated) or misses its fp32 tolerance becomes a `failed` row and the others still run; the
caller (python -m export) then exits non-zero. A variant that misses the accuracy budget (on
validation at every setting tried, or on test for what validation chose) is `rejected`: a result.
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
from common.files import atomic_path, atomic_write_json, check_free_space, sha256_file
from export import formats, isolated, layers, manifest, runs, search, verify
from export.config import ExportConfig
from export.prune import FineTune, prunable_widths
from export.search import Budget, Source
from export.variant import QuantRecipe, Unsupported, Variant
from train import checkpoint, data
from train.model_spec import ModelSpec, check_exportable

TAMPER_IMAGES = 3  # recomputed test accuracy may differ from the recorded one by this many images (CPU vs CUDA)


@dataclasses.dataclass(frozen=True)
class Context:
    """What every artifact build is judged with."""
    cfg: ExportConfig
    calib: torch.Tensor
    train_set: TensorDataset     # for QAT recipes
    val_set: TensorDataset       # the search's judge
    test_set: TensorDataset      # the final verification
    reference: Source            # the fp32 checkpoint, tested
    budget: Budget
    run_dir: Path
    arch: ModelSpec              # the checkpoint's model: its name in file names, its input
    output_layer: str            # the model's last layer, which mixed-precision recipes leave in fp32


def run(cfg: ExportConfig, log: Callable[[str], None] = print) -> Path:
    """Export everything `cfg` asks for; returns the manifest path (inside the published run folder)."""
    runs.check_out_dir(cfg.out_dir)
    torch.set_num_threads(cfg.threads)  # process-wide: fine-tuning, reference logits, TorchScript runners
    model, ckpt = checkpoint.load_model(cfg.checkpoint, stage="export")
    runs.prune_killed(cfg.out_dir)  # a run killed on a full disk left its files: they are not in the way
    check_free_space(runs.runs_dir(cfg.out_dir), disk_needed(model, cfg), "this export")
    ckpt_sha256 = sha256_file(cfg.checkpoint)  # hashed now: what we loaded, even if the file changes later
    arch = ModelSpec.from_record(ckpt["model"])
    check_exportable(model, arch, "export")  # what the ONNX and ExecuTorch builds need, refused up front
    try:
        cfg.check_embeds(arch.stem)
    except ValueError as e:
        raise UserError(f"[export] {e} (checkpoint {cfg.checkpoint} holds model {arch.name!r})") from None
    spec = data.get_spec(ckpt["dataset"]["name"])
    checkpoint.check_data_files(ckpt, cfg.data_dir)
    test_raw = data.load_split(spec, cfg.data_dir, train=False)
    test_set = data.to_tensors(test_raw, spec)
    train_set, val_set = splits(ckpt, spec, cfg.data_dir)
    reference = Source(model, [], {"pruning": "none"}, search.model_val_accuracy(model, val_set)).tested(test_set)
    check_untampered(cfg.checkpoint, ckpt, reference.accuracy, len(test_set))
    log(f"checkpoint {cfg.checkpoint}: fp32 test accuracy {reference.accuracy:.2%} (matches its record), "
        f"validation {reference.val_accuracy:.2%} on {len(val_set)} held-out training images")

    run_dir = runs.start(cfg.out_dir, runs.new_run_id())  # before the minutes of work: proves the folder writable
    try:
        calib = calibration_images(train_set, cfg.calibration_samples, ckpt["train"]["seed"])
        budget = Budget(reference.val_accuracy, cfg.accuracy_budget_pp, cfg.search_margin_pp)
        start = time.perf_counter()
        sources, pruning_records = pruned_sources(model, cfg, train_set, val_set, budget, ckpt["train"]["seed"], log)
        sources["none"] = [reference]
        summary = search_summary(cfg, val_set, ckpt, budget, pruning_records, time.perf_counter() - start)
        vectors = write_test_vectors(run_dir, test_raw, reference.logits, normalization(spec), cfg, arch)
        ctx = Context(cfg, calib, train_set, val_set, test_set, reference, budget, run_dir, arch,
                      layers.output_layer(model))
        rows = export_all(ctx, sources, pruning_records, spec, log)
        header = manifest_header(cfg, ckpt_sha256, spec, arch, run_dir.name, reference.accuracy, len(test_set),
                                 vectors)
        manifest.write(run_dir / "manifest.json", {**header, "search": summary}, rows)
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


def disk_needed(model: torch.nn.Module, cfg: ExportConfig) -> int:
    """Bytes the export writes at most: every planned artifact at its fp32 size (int8 and pruned ones
    are smaller), three more for one build's temp files (the ONNX quantizers' fp32 and pre-processed
    models), 4 kB per test vector and 1 MiB for the manifest."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return (len(cfg.planned_names()) + 3) * (weights + 2**16) + cfg.test_vectors * 4096 + 2**20


def check_untampered(path: Path, ckpt: dict[str, Any], accuracy: float, test_count: int) -> None:
    """Tampered or corrupted weights: the checkpoint no longer reproduces its own recorded test accuracy.

    The checkpoint has no signature; its recorded metrics are the only independent witness of
    its weights, and recomputing the accuracy costs nothing since the export needs it anyway.
    """
    recorded = ckpt["metrics"].get("test_accuracy")
    if not isinstance(recorded, float) or abs(recorded - accuracy) * test_count > TAMPER_IMAGES:
        raise UserError(f"checkpoint {path} looks tampered or corrupted: its weights give test accuracy "
                        f"{accuracy:.2%} but it records {recorded!r}; retrain with `python -m train`")


def splits(ckpt: dict[str, Any], spec: data.DatasetSpec, data_dir: Path) -> tuple[TensorDataset, TensorDataset]:
    """(train, val) exactly as the checkpoint split them (val_size, seed): fine-tuning and calibration
    see only its training images, the search judges on its held-out validation images."""
    full = data.to_tensors(data.load_split(spec, data_dir, train=True), spec)
    return data.split_train_val(full, ckpt["train"]["val_size"], ckpt["train"]["seed"])


def pruned_sources(model, cfg: ExportConfig, train_set, val_set, budget: Budget, seed: int,
                   log) -> tuple[dict[str, list[Source] | None], dict[str, list[dict]]]:
    """Per pruning kind: the models artifacts may be made from, strongest first (none passed: [], the
    rows are rejected; the kind cannot apply to this model: None, the rows are unsupported), and the
    search's records."""
    finetune = FineTune(epochs=cfg.finetune_epochs, lr=cfg.finetune_lr, distill=cfg.finetune_distill, seed=seed)
    sources, records = {}, {}
    for kind in (k for k in cfg.prunings if k != "none"):
        if kind == "structured" and not prunable_widths(model):
            sources[kind], records[kind] = None, []  # its rows say unsupported (export_all)
            log("structured pruning: no conv or linear layer before the output layer; its rows are unsupported")
        elif cfg.search == "off":
            fixed = cfg.sparsity if kind == "unstructured" else cfg.structured_ratio
            sources[kind], records[kind] = [search.fixed_source(kind, model, fixed, train_set, finetune)], []
            log(f"pruned ({kind}, fixed recipe): {sources[kind][0].notes[0]}")
        else:
            sources[kind], records[kind] = search.search_pruning(kind, model, train_set, val_set, finetune,
                                                                 budget, cfg.search_steps, log)
    return sources, records


def search_summary(cfg: ExportConfig, val_set, ckpt, budget: Budget, records, seconds: float) -> dict[str, Any]:
    """The manifest's top-level `search` object (docs/manifest.md)."""
    return {"mode": cfg.search,
            "validation": {"images": len(val_set), "seed": ckpt["train"]["seed"],
                           "fp32_accuracy": budget.reference_val},
            "budget_pp": budget.budget_pp, "margin_pp": budget.margin_pp if cfg.search == "on" else None,
            "steps": cfg.search_steps if cfg.search == "on" else None,
            "pruning": records, "pruning_seconds": round(seconds, 1)}


def calibration_images(train_set: TensorDataset, count: int, seed: int) -> torch.Tensor:
    images = train_set.tensors[0]
    pick = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:count]
    return images[pick].contiguous()


def export_all(ctx: Context, sources: dict[str, list[Source] | None], pruning_records: dict[str, list[dict]],
               spec: data.DatasetSpec, log) -> list[manifest.Artifact]:
    cfg = ctx.cfg
    jobs = [(formats.get(fmt), Variant(fmt, backend, quant, pruning, ctx.arch.stem))
            for fmt in cfg.formats for backend in formats.get(fmt).BACKENDS
            for pruning in cfg.prunings for quant in cfg.quantizations]  # dense before pruned: see expected_drop
    rows, dense_drop = [], {}
    for i, (module, variant) in enumerate(jobs, 1):
        if sources[variant.pruning] is None:
            rows.append(manifest.Artifact(variant.name, variant.format, variant.backend, variant.quantization,
                                          variant.pruning, status="unsupported", reason=NO_STRUCTURE))
            log(f"[{i:2d}/{len(jobs)}] {variant.name:<50} unsupported {NO_STRUCTURE}")
            continue
        options = build_options(variant.format, cfg, spec, ctx.train_set)
        ladder = recipe_ladder(module, variant, cfg, options, ctx.output_layer)
        key = (variant.format, variant.backend, variant.quantization)
        tries = search.plan(sources[variant.pruning], ladder, dense_drop.get(key, 0.0), ctx.budget,
                            cfg.search_max_builds) if cfg.search == "on" else [(sources[variant.pruning][0], None)]
        row = export_one(module, variant, tries, ctx, options, pruning_records.get(variant.pruning, []))
        if variant.pruning == "none" and row.search and row.search["best"]:
            dense_drop[key] = ctx.budget.drop_pp(row.search["best"]["val_accuracy"])  # int8's own cost
        rows.append(row)
        result = (f"acc {row.test_accuracy:.2%} diff {row.parity['max_abs_diff']:.2g} "
                  f"{row.size_bytes or 0:>8} B" if row.parity else "")
        log(f"[{i:2d}/{len(jobs)}] {variant.name:<50} {row.status:<11} {result} {row.reason or ''}")
    return rows


NO_STRUCTURE = ("structured pruning needs a conv or linear layer before the output layer (whose outputs are the "
                "class scores); this model has none")


def recipe_ladder(module: ModuleType, variant: Variant, cfg: ExportConfig, options: dict[str, Any],
                  output_layer: str) -> tuple[QuantRecipe | None, ...]:
    """The int8 recipes to try, plain first; (None,) for fp32, search off, or a format without int8."""
    if variant.quantization == "none" or cfg.search == "off":
        return (None,)
    try:
        return module.recipes(variant.quantization, output_layer=output_layer, **options)
    except Unsupported:
        return (None,)  # build() raises the same Unsupported with its reason


def build_options(fmt: str, cfg: ExportConfig, spec: data.DatasetSpec, train_set: TensorDataset) -> dict[str, Any]:
    """Format-specific keyword arguments to build(); the shared interface stays (model, variant, calib, out)."""
    if fmt == "onnx":
        return {"calibration_method": cfg.calibration_method,
                "metadata": {"class_names": list(spec.classes), "normalization": normalization(spec)}}
    if fmt == "executorch":
        return {"train_set": train_set}  # quantization-aware training recipes train on it
    return {}


def export_one(module: ModuleType, variant: Variant, tries: list[tuple[Source, QuantRecipe | None]], ctx: Context,
               options: dict[str, Any], pruning_records: list[dict]) -> manifest.Artifact:
    """Build the tries in order; with search on, the first within budget on validation is verified on test."""
    searched = ctx.cfg.search == "on" and (variant.quantization != "none" or variant.pruning != "none")
    out = ctx.run_dir / (variant.name + module.EXTENSION)
    builds: list[dict] = []
    for source, recipe in tries:
        row = manifest.Artifact(variant.name, variant.format, variant.backend, variant.quantization, variant.pruning,
                                status="ok", notes=list(source.notes))
        setting = search.setting_of(source, variant.quantization, recipe)
        start = time.perf_counter()
        try:
            with atomic_path(out) as tmp:
                row.notes += module.build(source.model, variant, ctx.calib, tmp, recipe=recipe, **options)
            if crash := isolated.check(variant.format, out):  # its runtime must not take this process down
                raise RuntimeError(crash)
            runner = module.load(out, threads=ctx.cfg.threads)
            if searched:
                val = search.artifact_val_accuracy(runner, ctx.val_set)
                builds.append(search.candidate(setting, val, out.stat().st_size, ctx.budget.passes(val), "artifact"))
                if not builds[-1]["within_budget"]:
                    out.unlink()
                    continue
            check = verify.check(runner, source.tested(ctx.test_set).logits, ctx.test_set)
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
        if searched:
            row.search = search.record(setting, pruning_records, builds)
        return verified(row, variant, check, source, out, ctx, time.perf_counter() - start)
    return rejected(variant, pruning_records, builds, ctx.budget)


def verified(row: manifest.Artifact, variant: Variant, check: verify.Check, source: Source, out: Path,
             ctx: Context, seconds: float) -> manifest.Artifact:
    """The final test-set verdict: fp32 parity misses are failed, budget misses rejected."""
    cfg = ctx.cfg
    row.seconds, row.source_model_test_accuracy = round(seconds, 2), source.accuracy
    row.test_accuracy = check.test_accuracy
    row.parity = {"max_abs_diff": check.max_abs_diff, "top1_agreement": check.top1_agreement}
    parity = verify.parity_problem(variant, check, cfg.fp32_tolerance)
    budget = verify.budget_problem(variant, check, ctx.reference.accuracy, cfg.accuracy_budget_pp)
    if parity:
        row.status, row.reason = "failed", f"outside tolerance: {parity}"
    elif budget:
        chosen = " (chosen on validation)" if row.search else " (fixed recipe)"
        row.status, row.reason = "rejected", f"outside the accuracy budget on the test set{chosen}: {budget}"
    if row.status != "ok" and not cfg.keep_failed:
        out.unlink()
        return row
    row.path, row.sha256, row.size_bytes = out.name, sha256_file(out), out.stat().st_size
    return row


def rejected(variant: Variant, pruning_records: list[dict], builds: list[dict], budget: Budget) -> manifest.Artifact:
    """No setting within the budget on validation: a result, with the best reached."""
    row = manifest.Artifact(variant.name, variant.format, variant.backend, variant.quantization, variant.pruning,
                            status="rejected")
    row.search = search.record(None, pruning_records, builds)
    what = f"{len(builds)} build(s) tried" if builds else f"no {variant.pruning} pruning setting passed"
    row.reason = f"no setting within the accuracy budget on validation ({what}); " + \
        search.describe_best(row.search["best"], budget)
    return row


def normalization(spec: data.DatasetSpec) -> dict[str, Any]:
    return {"scale": 255.0, "mean": [spec.mean], "std": [spec.std]}


def write_test_vectors(run_dir: Path, test_raw, logits: np.ndarray, norm: dict[str, Any],
                       cfg: ExportConfig, arch: ModelSpec) -> dict[str, Any]:
    """The first N real test images, raw uint8, with labels and the fp32 PyTorch logits."""
    n = min(cfg.test_vectors, len(test_raw.data))
    path = run_dir / "test_vectors.json"
    atomic_write_json(path, {
        "count": n, "input_shape": list(arch.input_shape), "normalization": norm, "indices": list(range(n)),
        "labels": test_raw.targets[:n].tolist(), "pixels": test_raw.data[:n].reshape(n, -1).tolist(),
        "expected_logits": logits[:n].tolist(), "tolerance": {"fp32_max_abs_diff": cfg.fp32_tolerance}})
    return {"path": path.name, "sha256": sha256_file(path), "count": n}


def manifest_header(cfg, ckpt_sha256, spec, arch: ModelSpec, run_id, reference_accuracy, test_count,
                    vectors) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "checkpoint": {"path": str(cfg.checkpoint), "sha256": ckpt_sha256},
        "dataset": {"name": spec.name, "classes": list(spec.classes)},
        "model": {**arch.record(), "stem": arch.stem},
        "input": {"name": "input", "shape": ["batch", *arch.input_shape], "dtype": "float32",
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
