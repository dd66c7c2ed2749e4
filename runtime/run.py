"""The runtime stage, top to bottom: manifest -> test set and reference -> measure -> report files."""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import numpy as np
import torch

from common.config import as_dict
from common.errors import UserError
from common.files import sha256_file
from export.verify import reference_logits, within_budget
from runtime import arm64, compare, device_results, environment, floor, harness, measure, render, report
from runtime.config import RuntimeConfig
from runtime.manifest import Manifest, read_manifest
from runtime.publish import publish
from train import data
from train.checkpoint import check_data_files, load_model

REPORT_NAMES = ("latency_report.json", "latency_report.md", "latency_report.html")
DEVICE_TARGETS = ("android", "browser-wasm")  # rows from the mobile demos' results files


def check_inputs(cfg: RuntimeConfig) -> tuple[Manifest, dict | None, dict[str, dict | None]]:
    """Every input file read and validated before anything is measured: the manifest, the
    --artifacts patterns, the baseline and the device results. A bad one is one UserError, so
    no finished measurement is ever thrown away for it. (Checkpoint and data: load_reference.)"""
    manifest = read_manifest(cfg.manifest)
    names = [a.name for a in manifest.artifacts]
    for pattern in cfg.artifacts:
        if not fnmatch.filter(names, pattern):
            raise UserError(f"--artifacts pattern {pattern!r} matches no artifact in {cfg.manifest}; "
                            f"its names: {', '.join(names) or '(none)'}")
    old = report.load_baseline(Path(cfg.baseline)) if cfg.baseline else None
    docs = {t: device_results.load(t, cfg.device_results_dir) for t in DEVICE_TARGETS if t in cfg.targets}
    return manifest, old, docs


def load_reference(cfg: RuntimeConfig, manifest: Manifest):
    """The fp32 model and the full test set; the model's top-1 per image is what artifacts must agree with."""
    model, ckpt = load_model(cfg.checkpoint)
    if manifest.checkpoint_sha256 and sha256_file(cfg.checkpoint) != manifest.checkpoint_sha256:
        raise UserError(f"{cfg.checkpoint} is not the checkpoint {manifest.path} was exported from (sha256 differs); "
                        f"run `python -m export` again, or pass the matching --checkpoint")
    check_data_files(ckpt, cfg.data_dir)  # the test set must be the one the checkpoint recorded
    test_set = data.load_test_set(data.get_spec(ckpt["dataset"]["name"]), cfg.data_dir)
    images, labels = test_set.tensors
    top1 = reference_logits(model, test_set).argmax(1)
    return model, np.ascontiguousarray(images.numpy()), labels.numpy(), top1


def resolve_threads(threads: tuple[int, ...]) -> tuple[int, ...]:
    """0 means all cores; duplicates (e.g. 1 and 0 on a 1-core machine) are measured once."""
    out = []
    for t in threads:
        t = t or environment.all_cores()
        if t not in out:
            out.append(t)
    return tuple(out)


def method_of(cfg: RuntimeConfig) -> harness.Method:
    return harness.Method(warmup=cfg.warmup, iterations=cfg.iterations, min_seconds=cfg.min_seconds,
                          min_calls=cfg.min_calls, cv_warn=cfg.cv_warn)


def build_report(cfg: RuntimeConfig, required: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Measure everything `cfg` asks for -> (report dict, batch-1 latency samples for the plots).
    `required`: targets that must measure at least one artifact (see report.unmeasured)."""
    manifest, old, docs = check_inputs(cfg)
    model, images, labels, top1 = load_reference(cfg, manifest)
    reference_accuracy = float((top1 == labels).mean())
    threads = resolve_threads(cfg.threads)
    method = method_of(cfg)
    bench = measure.Bench(images=images, labels=labels, reference_top1=top1, reference_accuracy=reference_accuracy,
                          budget_pp=manifest.accuracy_budget_pp, method=method, batches=tuple(cfg.batches),
                          threads=threads, accuracy_batch=cfg.accuracy_batch, peak_rss=cfg.peak_rss)
    previous_threads = torch.get_num_threads()
    try:
        overhead = harness.harness_overhead(method)
        flops = floor.model_flops(model.fc1.in_features, model.fc1.out_features, model.fc2.out_features)
        compute_floor = floor.compute_floor(flops, bench.batches, list(threads), cfg.matmul_size)
        jobs, rows = [], []
        for target in ("cpu", "cuda"):
            if target in cfg.targets:
                target_jobs, target_rows = measure.target_jobs(target, manifest, cfg.checkpoint, cfg.artifacts)
                jobs += target_jobs
                rows += target_rows
        measured, samples = measure.run_jobs(jobs, bench)
        weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        extras = {"runner_overhead": compare.runner_overhead(jobs, measured, bench),
                  "interleaved_ratio": compare.interleaved_ratio(jobs, measured, bench),
                  "memory_floor": floor.add_memory_floor(measured, compute_floor, weight_bytes)}
    finally:
        torch.set_num_threads(previous_threads)  # loaders set torch's process-wide thread count
    rows = measured + rows
    devices = {}
    for target, doc in docs.items():
        target_rows, devices[target] = device_results.device_rows(target, cfg.device_results_dir, manifest, doc)
        rows += target_rows
    if "arm64" in cfg.targets:
        target_rows, devices["arm64"] = arm64.arm64_rows(manifest, cfg, images, labels, top1, bench.logits)
        rows += target_rows
    reference = {"accuracy": reference_accuracy, "test_count": int(len(labels)), "model": "fp32 PyTorch checkpoint"}
    result = assemble(cfg, manifest, rows, threads, method, overhead, compute_floor, reference, devices, old)
    result.update(extras)  # runner overheads, the interleaved ratio and the memory floor (runtime/compare.py, floor.py)
    if extras["interleaved_ratio"]:
        result["recommendation"]["cpu"] = compare.recommendation(extras["interleaved_ratio"], rows,
                                                                 result["recommendation"].get("cpu"))
    result["problems"] = report.unmeasured(rows, cfg.targets, required) + result["problems"]
    return result, samples


def assemble(cfg, manifest, rows, threads, method, overhead, compute_floor, reference, devices, old) -> dict:
    reference_accuracy = reference["accuracy"]
    report.add_ratios(rows)
    report.flag_slow_int8(rows)
    budget_ok = {a.name: within_budget(a.test_accuracy or 0.0, reference_accuracy,
                                       manifest.accuracy_budget_pp) for a in manifest.artifacts}
    budget_ok.update({r["artifact"]: r["within_budget"] for r in rows
                      if r["target"] == "cpu" and r["within_budget"] is not None})
    out = {
        "schema": report.SCHEMA,
        "environment": environment.describe(list(threads), overhead),
        "method": {**method.describe(), "batches": list(cfg.batches), "threads": list(threads),
                   "accuracy": "full test set through each runtime's own predict(), "
                               f"batch {cfg.accuracy_batch}; top-1 agreement with the fp32 PyTorch model",
                   "peak_rss": "VmHWM of a fresh `python -m runtime.peak_rss` process: load + 10 calls at "
                               f"batch {max(cfg.batches)}" if cfg.peak_rss else "not measured (peak_rss = false)",
                   "ratio_to_eager": "p50 / torch-eager p50 on the same target, batch and threads"},
        "config": {k: v for k, v in as_dict(cfg).items()},
        "manifest": {"path": str(manifest.path), "run_id": manifest.raw.get("run_id"),
                     "accuracy_budget_pp": manifest.accuracy_budget_pp},
        "reference": reference,
        "compute_floor": compute_floor,
        "devices": devices,
        "rows": rows,
        "recommendation": {**report.recommend(rows, budget_ok), **arm64.recommend(rows)},
        # export's compression search (manifest `search` objects), for the report's frontier plot
        "compression_search": {"summary": manifest.raw.get("search"),
                               "artifacts": {a.name: {"status": a.status, "search": a.search}
                                             for a in manifest.artifacts if a.search}},
        "problems": report.problems(rows),
    }
    if old is not None:
        out["baseline"] = {"path": cfg.baseline, "date_utc": old.get("environment", {}).get("date_utc"),
                           "tolerance": cfg.regression_tolerance,
                           "regressions": report.regressions(rows, old.get("rows", []), cfg.regression_tolerance)}
    return out


def write_report(result: dict, samples: dict, out_dir: Path) -> list[Path]:
    """JSON, Markdown and HTML rendered first, then published together (runtime.publish): a
    full disk or a crash leaves the previous report whole, never a mix of old and new files."""
    texts = {REPORT_NAMES[0]: json.dumps(result, indent=2) + "\n", REPORT_NAMES[1]: render.markdown(result),
             REPORT_NAMES[2]: render.html(result, samples)}
    return publish(out_dir, texts)
