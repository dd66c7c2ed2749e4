"""The runtime stage, top to bottom: manifest -> test set and reference -> measure -> report files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from common.config import as_dict
from common.errors import UserError
from common.files import atomic_write, atomic_write_json, ensure_writable_dir, sha256_file
from runtime import arm64, device_results, environment, floor, harness, measure, render, report
from runtime.accuracy import within_budget
from runtime.config import RuntimeConfig
from runtime.manifest import Manifest, read_manifest
from train import data
from train.checkpoint import load_model

REPORT_NAMES = ("latency_report.json", "latency_report.md", "latency_report.html")


def load_reference(cfg: RuntimeConfig, manifest: Manifest):
    """The fp32 model and the full test set; the model's top-1 per image is what artifacts must agree with."""
    model, ckpt = load_model(cfg.checkpoint)
    if manifest.checkpoint_sha256 and sha256_file(cfg.checkpoint) != manifest.checkpoint_sha256:
        raise UserError(f"{cfg.checkpoint} is not the checkpoint {manifest.path} was exported from (sha256 differs); "
                        f"run `python -m export` again, or pass the matching --checkpoint")
    spec = data.get_spec(ckpt["dataset"]["name"])
    images, labels = data.load_test_set(spec, cfg.data_dir).tensors
    with torch.no_grad():
        top1 = torch.cat([model(images[i:i + 1000]).argmax(1) for i in range(0, len(images), 1000)])
    return model, np.ascontiguousarray(images.numpy()), labels.numpy(), top1.numpy()


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


def build_report(cfg: RuntimeConfig) -> tuple[dict, dict]:
    """Measure everything `cfg` asks for -> (report dict, batch-1 latency samples for the plots)."""
    manifest = read_manifest(cfg.manifest)
    old = report.load_baseline(Path(cfg.baseline)) if cfg.baseline else None
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
        for target, make in (("cpu", measure.cpu_jobs), ("cuda", measure.cuda_jobs)):
            if target in cfg.targets:
                target_jobs, target_rows = make(manifest, cfg.checkpoint, cfg.artifacts)
                jobs += target_jobs
                rows += target_rows
        measured, samples = measure.run_jobs(jobs, bench)
    finally:
        torch.set_num_threads(previous_threads)  # loaders set torch's process-wide thread count
    rows = measured + rows
    devices = {}
    for target in ("android", "browser-wasm"):
        if target in cfg.targets:
            target_rows, devices[target] = device_results.device_rows(target, cfg.device_results_dir, manifest)
            rows += target_rows
    if "arm64" in cfg.targets:
        target_rows, devices["arm64"] = arm64.arm64_rows(manifest, cfg, images, labels, top1)
        rows += target_rows
    reference = {"accuracy": reference_accuracy, "test_count": int(len(labels)), "model": "fp32 PyTorch checkpoint"}
    return assemble(cfg, manifest, rows, threads, method, overhead, compute_floor, reference, devices, old), samples


def assemble(cfg, manifest, rows, threads, method, overhead, compute_floor, reference, devices, old) -> dict:
    reference_accuracy = reference["accuracy"]
    report.add_ratios(rows)
    report.flag_slow_int8(rows)
    budget_ok = {a.name: within_budget(a.entry.get("test_accuracy") or 0.0, reference_accuracy,
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
        "problems": report.problems(rows),
    }
    if old is not None:
        out["baseline"] = {"path": cfg.baseline, "date_utc": old.get("environment", {}).get("date_utc"),
                           "tolerance": cfg.regression_tolerance,
                           "regressions": report.regressions(rows, old.get("rows", []), cfg.regression_tolerance)}
    return out


def write_report(result: dict, samples: dict, out_dir: Path) -> list[Path]:
    """JSON, Markdown and HTML, each written to a temp file and renamed (never half-written)."""
    ensure_writable_dir(out_dir, "report")
    paths = [out_dir / name for name in REPORT_NAMES]
    atomic_write_json(paths[0], result)
    with atomic_write(paths[1], "w") as f:
        f.write(render.markdown(result))
    with atomic_write(paths[2], "w") as f:
        f.write(render.html(result, samples))
    for path in paths:
        path.chmod(0o644)  # temp files are created 0600; reports are meant to be read and served
    return paths
