"""The arm64 target: every ok .onnx and .pte artifact run by the aarch64 build of its runtime.

Phones are ARM, and ONNX Runtime's MLAS and XNNPACK have separate ARM kernels, so an artifact
verified on x86 is not verified for a phone. Here each one runs under qemu-user (user-mode
emulation of one named ARM core) in the arm64 userland that `make arm64` builds in .cache/arm64:
.onnx through native/arm64/ort_runner.cpp on ONNX Runtime's C API (the aarch64 onnxruntime wheel's
libonnxruntime), .pte through native/arm64/pte_runner.cpp linked against the aarch64 executorch
wheel's own libraries. Each row gives accuracy on the full test set through the ARM build, top-1
agreement with the fp32 PyTorch model, the largest logit difference from the same artifact on x86,
and the cost: aarch64 guest instructions per inference at one thread, counted by a qemu plugin
(native/arm64/insn_count.c) between markers around the runtime call. A count does not move with
the neighbours' load, so it ranks artifacts where latency on a shared machine cannot. It is not a
latency: emulated wall time is 35-120x native and is never reported.
"""
from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

from export import formats
from export.verify import predict_all, within_budget
from runtime.targets import arm64_setup
from runtime.targets.arm64_runs import CACHE, COUNT_BATCHES, COST_PER_BYTE, CPU, REPEATS, ArmResult, Model, run_all
from runtime.manifest import Artifact, ArtifactError, Manifest, loadable_path
from runtime.measure import selected
from runtime.report.rows import Row, describe_artifact
from runtime.targets.base import Context, Measured, Target

# Parity with the same artifact on x86 (measured on the full test set): fp32 kernels differ only
# in summation order (1.1e-5 for XNNPACK fp32, 0 for ORT fp32), so fp32 is bounded on the logits.
# int8 kernels round and saturate differently per CPU (x86 MLAS's u8s8 AVX2 path against ARM's):
# ORT int8-static differed by 2.5 to 8.0 logits between runs at 99.2-99.5% top-1 agreement, so int8
# is judged on top-1 agreement alone, as the export judges int8 against fp32, and its largest
# difference is reported. A wrong build or input disagrees on far more than 2% of the images.
PARITY_MAX_ABS_DIFF = {"none": 1e-3, "int8-dynamic": math.inf, "int8-static": math.inf}
PARITY_TOP1 = {"none": 0.999, "int8-dynamic": 0.98, "int8-static": 0.98}  # ARM top-1 == x86 top-1
# format -> the cpu runtime whose call the ARM runner makes (its row name gets "-aarch64"); the
# cpu target's accuracy-pass logits of that runtime are the x86 side of the parity check
RUNNERS = {"onnx": "onnxruntime-iobinding", "executorch": "executorch-{backend}"}


def missing_setup(cache: Path = CACHE) -> str | None:
    """Why the ARM64 target cannot run here, or None when `make arm64` has set it up and nothing
    changed since (its ready marker, runtime/targets/arm64_setup.py)."""
    return arm64_setup.problem(cache)


def emulator() -> str:
    """The emulator and the core it emulates, as each row names them."""
    version = subprocess.run(["qemu-aarch64", "--version"], capture_output=True, text=True, check=True)
    return f"{version.stdout.splitlines()[0].strip()}, -cpu {CPU}"


def x86_runtime(artifact: Artifact) -> str:
    """The cpu runtime the ARM runner of this artifact stands for."""
    return RUNNERS[artifact.format].format(backend=artifact.backend)


def cost(artifact: Artifact) -> float:
    """A guess at the artifact's emulation cost, for the work order only (arm64_runs.COST_PER_BYTE)."""
    kind = ("fp32" if artifact.quantization == "none" else
            "portable-int8" if artifact.backend == "portable" else "int8")
    return COST_PER_BYTE[kind] * (artifact.size_bytes or 0)


def parity(arm: np.ndarray, x86: np.ndarray, quantization: str) -> tuple[float, float, str | None]:
    """(max abs logit difference, top-1 agreement, None or why the ARM logits are not the x86 ones)."""
    if arm.shape != x86.shape:
        return float("inf"), 0.0, f"ARM logits have shape {arm.shape}, x86 {x86.shape}"
    diff = float(np.abs(arm - x86).max())
    agreement = float((arm.argmax(1) == x86.argmax(1)).mean())
    bound, top1 = PARITY_MAX_ABS_DIFF[quantization], PARITY_TOP1[quantization]
    if diff <= bound and agreement >= top1:
        return diff, agreement, None
    rules = [f"top-1 agreement {agreement:.4f} (bound {top1})"]  # int8: the only rule (its diff is reported)
    if math.isfinite(bound):
        rules.insert(0, f"max abs logit diff {diff:.3g} (bound {bound:g})")
    return diff, agreement, "ARM64 differs from x86: " + ", ".join(rules)


def x86_reference(artifact: Artifact, path: Path, images: np.ndarray, batch: int,
                  known: dict[tuple[str, str], np.ndarray]) -> tuple[np.ndarray, str]:
    """The same artifact's logits on x86 at the same batch size, and where they come from: the cpu
    target's accuracy pass when it ran this runtime on this very file (`known`, keyed by runtime
    and the manifest's sha256 of the file, which loadable_path checked), else computed here."""
    key = (x86_runtime(artifact), artifact.sha256)
    if key in known:
        return known[key], f"the cpu target's accuracy pass ({key[0]})"
    runner = formats.get(artifact.format).load(path, threads=1)
    return predict_all(runner, images, batch), f"{artifact.format} loader, 1 thread"


def net_count(result: ArmResult, batch: int) -> tuple[int | None, list[str]]:
    """Instructions per call at `batch`: the fewest of the repeats less the markers' own cost, and a
    flag when the repeats differ. Batch-1 calls repeat exactly; ONNX Runtime's batch-32 call now
    and then takes ~0.1% more than its steady count (measured), so the fewest is the steady figure."""
    calls, markers = result.calls.get(batch), result.markers.get(batch)
    if not calls:
        return None, [f"no instruction count at batch {batch}"]
    count = min(calls) - min(markers)
    spread = (max(calls) - min(calls)) / min(calls)
    return count, [] if spread == 0 else [f"counts vary by {spread:.2%} across {len(calls)} repeats (fewest reported)"]


def artifact_rows(artifact: Artifact, result: ArmResult, x86: np.ndarray | None, labels: np.ndarray,
                  reference_top1: np.ndarray, reference_accuracy: float, budget_pp: float,
                  emulated: str) -> list[Row]:
    """One row per counted batch size (one failed row when the ARM run or the parity check failed)."""
    runtime = x86_runtime(artifact) + "-aarch64"
    common = {**describe_artifact(artifact), "runtime": runtime, "target": "arm64", "emulator": emulated}
    if result.error is not None or result.logits is None:
        return [Row(**common, status="failed", reason=f"ARM64 run failed: {result.error}")]
    top1 = result.logits.argmax(1)
    accuracy = float((top1 == labels).mean())
    facts = {"accuracy": accuracy, "top1_agreement": float((top1 == reference_top1).mean()),
             "accuracy_images": len(labels), "accuracy_source": "measured",
             "within_budget": within_budget(accuracy, reference_accuracy, budget_pp)}
    diff, _, wrong = parity(result.logits, x86, artifact.quantization) if x86 is not None else (None, None, None)
    facts["max_abs_diff_x86"] = diff
    if wrong:
        return [Row(**common, **facts, status="failed", reason=wrong)]
    rows = []
    for batch in sorted(result.calls) or [None]:
        count, flags = net_count(result, batch) if batch else (None, ["not counted"])
        rows.append(Row(**common, **facts, batch=batch, threads=1, instructions=count, flags=flags))
    return rows


def unavailable(ctx: Context) -> str | None:
    return missing_setup()


def measure_arm64(ctx: Context) -> Measured:
    ref = ctx.reference
    rows, device = arm64_rows(ctx.manifest, ctx.cfg, ref.images, ref.labels, ref.top1,
                              ctx.shared.get("x86_logits"))
    return Measured(rows=rows, device=device)


def arm64_rows(manifest: Manifest, cfg, images: np.ndarray, labels: np.ndarray, reference_top1: np.ndarray,
               x86_known: dict[tuple[str, str], np.ndarray] | None = None) -> tuple[list[Row], dict]:
    """The arm64 target's rows, and what the report says about the emulated device. `x86_known`:
    the cpu target's accuracy-pass logits by (runtime, sha256), reused for the parity check."""
    artifacts = [a for a in manifest.artifacts if a.status == "ok" and a.format in RUNNERS
                 and selected(a.name, cfg.artifacts)]
    reference_accuracy = float((reference_top1 == labels).mean())
    emulated, rows, sources = emulator(), [], set()
    paths, problems = {}, {}
    for a in artifacts:
        try:
            paths[a.name] = loadable_path(manifest, a)  # x86_reference may load it in this process
        except ArtifactError as e:
            problems[a.name] = str(e)
    models = [Model(a.name, paths[a.name], a.format, cost(a)) for a in artifacts if a.name in paths]
    results = run_all(models, images, cfg.accuracy_batch)
    for a in artifacts:
        if a.name in problems:
            rows.append(Row(**describe_artifact(a), target="arm64", status="failed", reason=problems[a.name]))
            continue
        x86 = None
        if results[a.name].logits is not None:
            x86, source = x86_reference(a, paths[a.name], images, cfg.accuracy_batch, x86_known or {})
            sources.add(source)
        rows += artifact_rows(a, results[a.name], x86, labels, reference_top1, reference_accuracy,
                              manifest.accuracy_budget_pp, emulated)
    markers = {f"{x86_runtime(a)}-aarch64": min(results[a.name].markers[1])
               for a in artifacts if a.name in results and results[a.name].markers.get(1)}
    device = {"emulator": emulated, "cpu": CPU, "threads": 1, "count_batches": list(COUNT_BATCHES),
              "repeats": REPEATS, "marker_overhead_instructions": markers,
              "accuracy_batch": cfg.accuracy_batch, "x86_logits": sorted(sources),
              "method": "aarch64 guest instructions per runtime call (qemu plugin native/arm64/insn_count.c): "
                        "the fewest over the repeats less the cost of an empty marker pair, after 3 uncounted "
                        "and 10 discarded marked calls, in a fresh process per artifact that runs only its counts "
                        "(empty environment, fixed malloc thresholds, paths relative to its temp folder); one "
                        "thread; no address randomization. Guest instructions, not cycles (no caches, no memory "
                        "latency, no pipeline); emulated wall time is not a latency and is not reported"}
    return rows, device


TARGET = Target(name="arm64", title="ARM64 phone CPU (Cortex-A76, emulated)", metric="instructions",
                metric_label="aarch64 instructions per inference at batch 1 (a count, not a latency)",
                baseline=None, how_to_measure="make arm64 && python -m runtime --targets arm64",
                unavailable=unavailable, measure=measure_arm64)
