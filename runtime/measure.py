"""Measuring on this machine (the cpu and cuda targets), read top to bottom: which (artifact,
runtime) pairs run -> accuracy -> memory -> latency.

Every pair goes through `measure_job`, the same code for torch-eager, TorchScript, ONNX
Runtime, ExecuTorch and the CUDA runtimes. A pair that fails to verify, load or run becomes a
`failed` row with the error, and the next pair is measured.
"""
from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from common.errors import one_line
from export import verify
from export.manifest import versions
from export.variant import Runner
from export.verify import predict_all, within_budget
from runtime import harness, peak_rss, runners
from runtime.manifest import Artifact, ArtifactError, Manifest, loadable_path
from runtime.report.rows import Row, describe_artifact

STAT_KEYS = ("p50_us", "p90_us", "p99_us", "mean_us", "std_us", "trimmed_mean_us", "cv", "throughput")
EAGER_FACTS = {"artifact": "checkpoint", "format": "pytorch", "backend": "cpu", "quantization": "none",
               "pruning": "none"}


@dataclasses.dataclass(frozen=True)
class Job:
    runtime: str
    target: str
    facts: dict                                  # artifact name, format, backend, ... for the rows
    load: Callable[[int], Runner] | None         # threads -> runner; None when `error` is set
    rss: tuple[str, Path] | None = None          # (runtime, path) for the peak-RSS subprocess
    error: str | None = None                     # why it cannot run (verification failed)
    sha256: str | None = None                    # the artifact file's (manifest); None: the checkpoint
    artifact: Artifact | None = None             # its manifest row; None: the checkpoint


@dataclasses.dataclass(frozen=True)
class Bench:
    """Everything a job is measured against: the same for every job of one report."""
    images: np.ndarray           # the full test set, float32 [N, 1, 28, 28], normalized
    labels: np.ndarray
    reference_top1: np.ndarray   # the fp32 PyTorch model's top-1 per image
    reference_accuracy: float
    budget_pp: float
    method: harness.Method
    batches: tuple[int, ...]
    threads: tuple[int, ...]     # resolved: 0 already replaced by the core count
    accuracy_batch: int
    peak_rss: bool
    export_versions: dict[str, str]   # the library versions the export verified with (manifest)
    export_threads: int | None        # the thread count it verified at (manifest config)
    # (runtime, artifact sha256) -> the accuracy pass's logits, filled by measure_job: the arm64
    # target's x86 side of its parity check (10k x 10 float32: 0.4 MB each)
    logits: dict = dataclasses.field(default_factory=dict)


def bench_of(ctx, peak_rss: bool | None = None) -> Bench:
    """The Bench of one report's context (runtime/targets/base.py Context)."""
    cfg, ref = ctx.cfg, ctx.reference
    return Bench(images=ref.images, labels=ref.labels, reference_top1=ref.top1, reference_accuracy=ref.accuracy,
                 budget_pp=ctx.manifest.accuracy_budget_pp, method=ctx.method, batches=tuple(cfg.batches),
                 threads=ctx.threads, accuracy_batch=cfg.accuracy_batch,
                 peak_rss=cfg.peak_rss if peak_rss is None else peak_rss,
                 export_versions=ctx.manifest.raw.get("versions", {}),
                 export_threads=ctx.manifest.raw.get("config", {}).get("threads"))


def evaluate(runner, images: np.ndarray, labels: np.ndarray, reference_top1: np.ndarray,
             batch: int) -> dict[str, float]:
    """{accuracy, top1_agreement} of one runner, both fractions in 0..1 over all len(images) images."""
    return scores(predict_all(runner, images, batch), labels, reference_top1)


def scores(logits: np.ndarray, labels: np.ndarray, reference_top1: np.ndarray) -> dict[str, float]:
    top1 = logits.argmax(axis=1)
    return {"accuracy": float((top1 == labels).mean()),
            "top1_agreement": float((top1 == reference_top1).mean())}


def selected(name: str, wanted: tuple[str, ...]) -> bool:
    """No patterns: everything; else names matching any shell pattern (mlp_onnx_*, mlp_torchscript_fp32)."""
    return not wanted or any(fnmatch.fnmatchcase(name, w) for w in wanted)


def target_jobs(target: str, manifest: Manifest, checkpoint: Path,
                wanted: tuple[str, ...]) -> tuple[list[Job], list[dict]]:
    """Jobs of every runtime of `target` (runners.RUNTIMES): its torch-eager baseline first, then
    every ok artifact with each of its runtimes. Also `not measured` rows: for a runtime that cannot
    run here (no CUDA device), and on cpu for artifacts that export did not produce."""
    own = runners.of_target(target)
    pairs: list[tuple[str, dict, Path | None, str | None, Artifact | None]] = [
        (name, EAGER_FACTS, checkpoint, None, None) for name, r in own.items() if r.runs is None]
    skipped = []
    for artifact in manifest.artifacts:
        if not selected(artifact.name, wanted):
            continue
        facts, names = describe_artifact(artifact), runners.runtimes_for(artifact, target)
        if artifact.status != "ok" or not names:
            why = (f"export status {artifact.status}: {artifact.reason}" if artifact.status != "ok"
                   else f"no runtime for format {artifact.format!r}")
            if target == "cpu":  # one such row per artifact, not one per target
                skipped.append(Row(**facts, target=target, status="not measured", reason=why))
            continue
        path, error = None, None
        if any(runners.unavailable(name) is None for name in names):  # hash the file once, if anything runs it
            try:
                path = loadable_path(manifest, artifact)
            except ArtifactError as e:
                error = str(e)
        pairs += [(name, facts, path, error, artifact) for name in names]
    jobs = []
    for name, facts, path, error, artifact in pairs:
        reason = runners.unavailable(name)
        sha256 = artifact.sha256 if artifact else None
        if reason:
            skipped.append(Row(**facts, runtime=name, target=target, status="not measured", reason=reason))
        elif error:
            jobs.append(Job(name, target, facts, None, error=error, sha256=sha256, artifact=artifact))
        else:  # peak RSS is a host-memory figure: measured for cpu rows only
            jobs.append(Job(name, target, facts, _loader(name, path), (name, path) if target == "cpu" else None,
                            sha256=sha256, artifact=artifact))
    return jobs, skipped


def _loader(runtime: str, path: Path) -> Callable[[int], Runner]:
    return lambda threads: runners.load(runtime, path, threads)


def failed(job: Job, reason: str, **values) -> dict:
    return Row(**job.facts, runtime=job.runtime, target=job.target, status="failed", reason=reason, **values)


def exported_scores(job: Job, bench: Bench) -> dict | None:
    """The export's verified scores of this very file (same sha256), when this row's accuracy pass
    would compute exactly what the export's verification did: the same runtime build (the
    packages of runners.RUNTIMES[...].builds installed at the versions the manifest recorded), on
    the same test data (load_reference checked the checkpoint and its data files), at the same
    batch (export.verify.BATCH: int8-dynamic quantizes a batch as a whole) and thread count.
    None: measure it. Another build (CUDA, ARM64, a browser, a phone) always measures."""
    artifact, builds = job.artifact, runners.RUNTIMES[job.runtime].builds
    if (artifact is None or artifact.test_accuracy is None or not builds or bench.accuracy_batch != verify.BATCH
            or bench.export_threads != max(bench.threads)):
        return None
    if any(bench.export_versions.get(name) != version for name, version in versions(builds).items()
           if name != "python"):
        return None
    # parity.top1_agreement compares with the model the artifact was made from: that is the fp32
    # reference only for unpruned artifacts (a pruned one's source is its fine-tuned pruned model)
    agreement = artifact.parity["top1_agreement"] if artifact.pruning == "none" and artifact.parity else None
    return {"accuracy": artifact.test_accuracy, "top1_agreement": agreement, "accuracy_source": "export"}


def measure_job(job: Job, bench: Bench, bar: tqdm) -> list[Row]:
    """Rows of one (artifact, runtime): one per threads x batch."""
    steps = len(bench.threads) * len(bench.batches)
    if job.error:
        bar.update(steps)
        return [failed(job, job.error)]
    checked = exported_scores(job, bench)
    if checked is None:
        bar.set_description(f"{job.runtime} {job.facts['artifact']}: accuracy")
        try:
            logits = predict_all(job.load(max(bench.threads)), bench.images, bench.accuracy_batch)
        except Exception as e:  # a runtime that cannot load or run is a failed row, not a crash
            bar.update(steps)
            return [failed(job, f"load or run failed: {one_line(e)}")]
        if job.sha256 and job.target == "cpu":
            bench.logits[(job.runtime, job.sha256)] = logits
        checked = {**scores(logits, bench.labels, bench.reference_top1), "accuracy_source": "measured"}
    checked.update(accuracy_images=len(bench.labels),
                   within_budget=within_budget(checked["accuracy"], bench.reference_accuracy, bench.budget_pp))
    flags = [] if checked["within_budget"] else [
        f"over the accuracy budget: {checked['accuracy']:.4f} vs reference {bench.reference_accuracy:.4f} "
        f"- {bench.budget_pp} pp"]
    rss = _peak_rss(job, bench, flags)
    rows = []
    for threads in bench.threads:
        bar.set_description(f"{job.runtime} {job.facts['artifact']}: {threads} thread(s)")
        rows += measure_threads(job, bench, threads, {**checked, **rss}, flags, bar)
    return rows


def measure_threads(job: Job, bench: Bench, threads: int, common: dict, flags: list[str],
                    bar: tqdm) -> list[Row]:
    """One fresh load at `threads`, then every batch size. The runner is dropped on return, which
    matters: ExecuTorch can only resize its process-wide threadpool while no program is loaded."""
    try:
        runner, load_ms = harness.load_timed(lambda: job.load(threads))
    except Exception as e:
        bar.update(len(bench.batches))
        return [failed(job, f"load failed: {one_line(e)}", threads=threads)]
    rows = []
    for batch in bench.batches:
        x = np.ascontiguousarray(bench.images[:batch])
        try:
            first_ms = harness.first_call_ms(runner, x)
            summary, _ = harness.measure(runner, x, bench.method)
        except Exception as e:
            rows.append(failed(job, f"run failed: {one_line(e)}", threads=threads, batch=batch))
            bar.update(1)
            continue
        noisy = [f"noisy: CV {summary['cv']:.2f} > {bench.method.cv_warn}"] if summary["high_cv"] else []
        rows.append(Row(**job.facts, runtime=job.runtime, target=job.target, batch=batch, threads=threads,
                        **common, load_ms=load_ms, first_ms=first_ms, timed_calls=int(summary["n"]),
                        flags=flags + noisy, **{k: summary[k] for k in STAT_KEYS}))
        bar.update(1)
    return rows


def _peak_rss(job: Job, bench: Bench, flags: list[str]) -> dict:
    """{peak_rss_mb, import_rss_mb} of a fresh process with this artifact loaded, or {} (reason in flags)."""
    if not bench.peak_rss or job.rss is None:
        return {}
    try:
        got = peak_rss.measure_in_subprocess(*job.rss, batch=max(bench.batches))
    except Exception as e:  # memory is one column; its failure should not hide the latency numbers
        flags.append(f"peak RSS not measured: {one_line(e)}")
        return {}
    return {"peak_rss_mb": got["peak_rss_mb"], "import_rss_mb": got["baseline_rss_mb"]}


def run_jobs(jobs: list[Job], bench: Bench) -> list[Row]:
    rows = []
    total = len(jobs) * len(bench.threads) * len(bench.batches)
    with tqdm(total=total, unit="run", desc="measuring", mininterval=0.5) as bar:
        for job in jobs:
            rows += measure_job(job, bench, bar)
    return rows
