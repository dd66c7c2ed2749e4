"""The runtime stage, top to bottom: inputs -> the fp32 reference -> every target (runtime/targets)
-> the report (runtime/report) -> its files, published together."""
from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import numpy as np
import torch

from common import stages
from common.config import as_dict
from common.errors import UserError
from common.files import sha256_file
from export.verify import reference_logits
from runtime import environment, harness
from runtime.config import RuntimeConfig
from runtime.manifest import Manifest, read_manifest
from runtime.report import assemble, publish, render
from runtime.report.publish import LINK as REPORT_LINK
from runtime.targets import TARGETS
from runtime.targets import arm64_runs
from runtime.targets.base import Context, Reference, Target
from runtime.device_results import results_files
from train import data
from train.checkpoint import check_data_files, load, load_model

REPORT_NAMES = ("latency_report.json", "latency_report.md", "latency_report.html")


# Settings that name where inputs and outputs are: their content's sha256 stands for them.
NOT_INPUTS = ("manifest", "checkpoint", "data_dir", "out_dir", "device_results_dir", "baseline")


def stage_inputs(cfg: RuntimeConfig, required: tuple[str, ...]) -> dict[str, Any]:
    """What a report is a function of (common/stages.py): the settings, the files it reads (by
    sha256: the manifest names every artifact's), the ARM64 set-up, the machine, this code and
    the libraries. `required`: targets named explicitly, which decide the exit status."""
    read_manifest(cfg.manifest)  # checked first, as build_report does: a bad manifest is its own one line
    spec = data.get_spec(load(cfg.checkpoint)["dataset"]["name"])  # missing or broken: the report's own error
    device_results = [p for t in ("android", "browser-wasm") for p in results_files(t, cfg.device_results_dir)]
    return {"config": {**{k: v for k, v in as_dict(cfg).items() if k not in NOT_INPUTS}, "required": list(required)},
            "manifest": stages.files([cfg.manifest]), "checkpoint": stages.files([cfg.checkpoint]),
            "data": data.stage_data(spec, cfg.data_dir), "device_results": stages.files(device_results),
            "baseline": stages.files([Path(cfg.baseline)]) if cfg.baseline else None,
            "arm64": stages.files([arm64_runs.CACHE / "versions.txt", arm64_runs.CACHE / "bin"]),
            "machine": {"cpu": environment.cpu_model(), "cores": environment.all_cores(),
                        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
            "code": stages.code("runtime", "export", "train", "common", "native/arm64"),
            "versions": stages.versions(*environment.PACKAGES)}


def check_inputs(cfg: RuntimeConfig) -> tuple[Manifest, dict | None]:
    """The manifest, the --artifacts patterns and the baseline, read and validated before anything
    is measured: a bad one is one UserError, so no finished measurement is thrown away for it.
    (Checkpoint and data: load_reference; each target's own inputs: its `unavailable`.)"""
    manifest = read_manifest(cfg.manifest)
    names = [a.name for a in manifest.artifacts]
    for pattern in cfg.artifacts:
        if not fnmatch.filter(names, pattern):
            raise UserError(f"--artifacts pattern {pattern!r} matches no artifact in {cfg.manifest}; "
                            f"its names: {', '.join(names) or '(none)'}")
    old = assemble.load_baseline(Path(cfg.baseline)) if cfg.baseline else None
    return manifest, old


def load_reference(cfg: RuntimeConfig, manifest: Manifest) -> Reference:
    """The fp32 model and the full test set; the model's top-1 per image is what artifacts must agree with."""
    model, ckpt = load_model(cfg.checkpoint, stage="report")
    if manifest.checkpoint_sha256 and sha256_file(cfg.checkpoint) != manifest.checkpoint_sha256:
        raise UserError(f"{cfg.checkpoint} is not the checkpoint {manifest.path} was exported from (sha256 differs); "
                        f"run `python -m export` again, or pass the matching --checkpoint")
    check_data_files(ckpt, cfg.data_dir)  # the test set must be the one the checkpoint recorded
    test_set = data.load_test_set(data.get_spec(ckpt["dataset"]["name"]), cfg.data_dir)
    images, labels = test_set.tensors
    top1 = reference_logits(model, test_set).argmax(1)
    labels = labels.numpy()
    return Reference(model=model, images=np.ascontiguousarray(images.numpy()), labels=labels, top1=top1,
                     accuracy=float((top1 == labels).mean()), data_sha256=dict(ckpt["dataset"].get("files", {})))


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


def selected_targets(cfg: RuntimeConfig) -> list[Target]:
    """The targets `cfg` names (every registered one when it names none), in the registry's order."""
    return [t for name, t in TARGETS.items() if not cfg.targets or name in cfg.targets]


def build_report(cfg: RuntimeConfig, required: tuple[str, ...] = ()) -> dict:
    """Measure every target `cfg` asks for -> the report dict. `required`: targets that must measure
    at least one artifact (see assemble.unmeasured)."""
    manifest, old = check_inputs(cfg)
    ctx = Context(cfg=cfg, manifest=manifest, reference=load_reference(cfg, manifest), method=method_of(cfg),
                  threads=resolve_threads(cfg.threads))
    targets = selected_targets(cfg)
    why_not = {t.name: t.unavailable(ctx) for t in targets}  # reads and checks every target's own inputs
    overhead = harness.harness_overhead(ctx.method)
    measured = {t.name: None if why_not[t.name] else t.measure(ctx) for t in targets}
    return assemble.assemble(ctx, targets, measured, why_not, overhead, old, required)


def check_out_dir(out_dir: Path) -> None:
    """The report folder, checked before minutes of measuring: writable, and nothing in the way of
    the links the report is published through (runtime.report.publish)."""
    publish.check_out_dir(out_dir, REPORT_NAMES)


def write_report(report: dict, out_dir: Path) -> list[Path]:
    """JSON, Markdown and HTML rendered first, then published together (runtime.report.publish): a
    full disk or a crash leaves the previous report whole, never a mix of old and new files."""
    return publish.publish(out_dir, dict(zip(REPORT_NAMES, render.render_all(report))))
