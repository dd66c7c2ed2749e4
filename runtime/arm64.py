"""The arm64 target: every ok .onnx and .pte artifact run by the aarch64 build of its runtime.

Phones are ARM, and ONNX Runtime's MLAS and XNNPACK have separate ARM kernels, so an artifact
verified on x86 is not verified for a phone. Here each one runs under qemu-user (user-mode
emulation of one named ARM core) in the arm64 userland that `make arm64` builds in .cache/arm64:
.onnx through PyPI's aarch64 onnxruntime in the emulated Python (native/arm64/ort_runner.py),
.pte through native/arm64/pte_runner.cpp linked against the aarch64 executorch wheel's own
libraries. Each row gives accuracy on the full test set through the ARM build, top-1 agreement
with the fp32 PyTorch model, the largest logit difference from the same artifact on x86, and the
cost: aarch64 guest instructions per inference at one thread, counted by a qemu plugin
(native/arm64/insn_count.c) between markers around the runtime call. A count does not move with
the neighbours' load, so it ranks artifacts where latency on a shared machine cannot. It is not
a latency: emulated wall time is 35-120x native and is never reported.
"""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from export import formats
from export.verify import predict_all, within_budget
from runtime.manifest import Artifact, ArtifactError, Manifest, verified_path
from runtime.measure import selected
from runtime.rows import describe_artifact, make_row

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "arm64"  # written by `make arm64` (native/arm64/setup.sh)
# A named core: qemu 7.2's `max` CPU computes int8 wrong (its SME emulation; top-1 agreement 0.44
# measured), Cortex-A76 (ARMv8.2 with dot-product, the big core of many 2019-2022 phones) is correct
# and bit-identical with qemu 10. native/arm64/cpuinfo describes the same core to the guest.
CPU = "cortex-a76"
COUNT_BATCHES = (1, 32)
REPEATS = 5            # counted calls per batch size (after the runners' own warm-up calls)
ACCURACY_BATCH = 256   # images per call in the 10k-image pass
TIMEOUT_S = 1200       # one runner process, all artifacts of its format
# Parity with the same artifact on x86 (measured on the full test set): fp32 kernels differ only
# in summation order (1.1e-5 for XNNPACK fp32, 0 for ORT fp32), so fp32 is bounded on the logits.
# int8 kernels round and saturate differently per CPU (x86 MLAS's u8s8 AVX2 path against ARM's):
# ORT int8-static differed by 2.5 to 8.0 logits between runs at 99.2-99.5% top-1 agreement, so int8
# is judged on top-1 agreement alone, as the export judges int8 against fp32, and its largest
# difference is reported. A wrong build or input disagrees on far more than 2% of the images.
PARITY_MAX_ABS_DIFF = {"none": 1e-3, "int8-dynamic": math.inf, "int8-static": math.inf}
PARITY_TOP1 = {"none": 0.999, "int8-dynamic": 0.98, "int8-static": 0.98}  # ARM top-1 == x86 top-1
# format -> the cpu runtime whose call the ARM runner makes (its row name gets "-aarch64")
RUNNERS = {"onnx": "onnxruntime-iobinding", "executorch": "executorch-{backend}"}


@dataclasses.dataclass(frozen=True)
class ArmResult:
    """One artifact's run on ARM: its logits for every image, and guest instructions per marked call."""
    logits: np.ndarray | None
    error: str | None
    markers: dict[int, list[int]]   # batch -> counts of empty marker pairs (the markers' own cost)
    calls: dict[int, list[int]]     # batch -> counts of marked runtime calls


def missing_setup(cache: Path = CACHE) -> str | None:
    """Why the ARM64 target cannot run here, or None when `make arm64` has set it up."""
    if not (cache / "ready").exists():
        return f"the ARM64 set-up is missing ({cache}/ready not found): run `make arm64`"
    return None


def emulator() -> str:
    """The emulator and the core it emulates, as each row names them."""
    version = subprocess.run(["qemu-aarch64", "--version"], capture_output=True, text=True, check=True)
    return f"{version.stdout.splitlines()[0].strip()}, -cpu {CPU}"


def runner_command(fmt: str, images: Path, count_batches: tuple[int, ...], counts: Path,
                   pairs: list[tuple[Path, Path]], cache: Path = CACHE) -> list[str]:
    """qemu-aarch64 with the counting plugin, running the runner of `fmt` on (model, logits) pairs."""
    # setarch -R: no address randomization, so buffers have the same alignment in every run (MLAS
    # and XNNPACK take different paths for unaligned heads); PYTHONHASHSEED: the same dict layouts.
    qemu = ["setarch", "x86_64", "-R", "qemu-aarch64", "-cpu", CPU, "-L", str(cache / "rootfs"),
            "-plugin", f"{cache / 'bin' / 'insn_count.so'},out={counts}"]
    if fmt == "onnx":
        qemu += ["-E", f"PYTHONPATH={cache / 'site'}", "-E", "PYTHONNOUSERSITE=1", "-E", "PYTHONDONTWRITEBYTECODE=1", "-E", "PYTHONHASHSEED=0",
                 str(cache / "rootfs" / "usr" / "bin" / "python3.11"), str(cache / "bin" / "ort_runner.py")]
    else:
        qemu += [str(cache / "bin" / "pte_runner")]
    args = [str(images), str(ACCURACY_BATCH), ",".join(map(str, count_batches)), str(REPEATS)]
    return qemu + args + [str(p) for pair in pairs for p in pair]


def split_counts(counts: list[int], count_batches: tuple[int, ...]):
    """A model's plugin lines -> (markers, calls) per batch. The runners mark, per batch, W + REPEATS
    empty pairs then W + REPEATS calls, W being their warm-up; the last REPEATS of each are kept."""
    markers, calls = {}, {}
    if not count_batches or not counts or len(counts) % (2 * len(count_batches)):
        return markers, calls
    chunk = len(counts) // len(count_batches)
    for i, b in enumerate(count_batches):
        empty, called = counts[chunk * i:chunk * i + chunk // 2], counts[chunk * i + chunk // 2:chunk * (i + 1)]
        markers[b], calls[b] = empty[-REPEATS:], called[-REPEATS:]
    return markers, calls


def run_on_arm(fmt: str, models: list[Path], images: np.ndarray, count_batches: tuple[int, ...] = COUNT_BATCHES,
               cache: Path = CACHE) -> list[ArmResult]:
    """All `models` (one format) through one emulated runner process; one result per model, in order."""
    with tempfile.TemporaryDirectory(prefix="arm64-") as tmp:
        tmp = Path(tmp)
        np.ascontiguousarray(images, dtype=np.float32).tofile(tmp / "images.f32")
        pairs = [(m, tmp / f"{i}.logits") for i, m in enumerate(models)]
        command = runner_command(fmt, tmp / "images.f32", count_batches, tmp / "counts.txt", pairs, cache)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
            died = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["no output"])[-1]
            lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        except subprocess.TimeoutExpired:
            died, lines = f"the runner did not finish within {TIMEOUT_S} s", []
        counts_path = tmp / "counts.txt"
        counts = [int(c) for c in counts_path.read_text().split()] if counts_path.exists() else []
        results = []
        for i, (model, logits_path) in enumerate(pairs):
            line = lines[i] if i < len(lines) else {"error": f"runner exited before this model: {died}", "intervals": 0}
            markers, calls = split_counts(counts[:line["intervals"]], count_batches) if line["error"] is None else ({}, {})
            counts = counts[line["intervals"]:]
            ok = line["error"] is None and logits_path.exists()
            logits = np.fromfile(logits_path, dtype=np.float32).reshape(len(images), -1) if ok else None
            results.append(ArmResult(logits=logits, error=line["error"], markers=markers, calls=calls))
        return results


def parity(arm: np.ndarray, x86: np.ndarray, quantization: str) -> tuple[float, float, str | None]:
    """(max abs logit difference, top-1 agreement, None or why the ARM logits are not the x86 ones)."""
    if arm.shape != x86.shape:
        return float("inf"), 0.0, f"ARM logits have shape {arm.shape}, x86 {x86.shape}"
    diff = float(np.abs(arm - x86).max())
    agreement = float((arm.argmax(1) == x86.argmax(1)).mean())
    bound, top1 = PARITY_MAX_ABS_DIFF[quantization], PARITY_TOP1[quantization]
    if diff > bound or agreement < top1:
        return diff, agreement, (f"ARM64 differs from x86: max abs logit diff {diff:.3g} (bound {bound:g}), "
                                 f"top-1 agreement {agreement:.4f} (bound {top1})")
    return diff, agreement, None


def x86_logits(artifact: Artifact, path: Path, images: np.ndarray) -> np.ndarray:
    """The same artifact through its x86 runtime, one thread (the cpu target's loader)."""
    return predict_all(formats.get(artifact.format).load(path, threads=1), images, ACCURACY_BATCH)


def net_count(result: ArmResult, batch: int) -> tuple[int | None, list[str]]:
    """Instructions per call at `batch`: the fewest of the repeats less the markers' own cost, and a
    flag when the repeats differ. .pte runs repeat exactly; ONNX Runtime through Python moves by
    up to ~0.2% between calls and between runs (measured), and its minimum is the steadiest figure."""
    calls, markers = result.calls.get(batch), result.markers.get(batch)
    if not calls:
        return None, [f"no instruction count at batch {batch}"]
    count = min(calls) - min(markers)
    spread = (max(calls) - min(calls)) / min(calls)
    return count, [] if spread == 0 else [f"counts vary by {spread:.2%} across {len(calls)} repeats (fewest reported)"]


def artifact_rows(artifact: Artifact, result: ArmResult, x86: np.ndarray | None, labels: np.ndarray,
                  reference_top1: np.ndarray, reference_accuracy: float, budget_pp: float,
                  emulated: str) -> list[dict]:
    """One row per counted batch size (one failed row when the ARM run or the parity check failed)."""
    runtime = RUNNERS[artifact.format].format(backend=artifact.backend) + "-aarch64"
    common = {**describe_artifact(artifact), "runtime": runtime, "target": "arm64", "emulator": emulated}
    if result.error is not None or result.logits is None:
        return [make_row(**common, status="failed", reason=f"ARM64 run failed: {result.error}")]
    top1 = result.logits.argmax(1)
    accuracy = float((top1 == labels).mean())
    facts = {"accuracy": accuracy, "top1_agreement": float((top1 == reference_top1).mean()),
             "within_budget": within_budget(accuracy, reference_accuracy, budget_pp)}
    diff, _, wrong = parity(result.logits, x86, artifact.quantization) if x86 is not None else (None, None, None)
    facts["max_abs_diff_x86"] = diff
    if wrong:
        return [make_row(**common, **facts, status="failed", reason=wrong)]
    rows = []
    for batch in sorted(result.calls) or [None]:
        count, flags = net_count(result, batch) if batch else (None, ["not counted"])
        rows.append(make_row(**common, **facts, batch=batch, threads=1, instructions=count, flags=flags))
    return rows


def run_all(artifacts: list[Artifact], paths: dict[str, Path], images: np.ndarray) -> dict[str, ArmResult]:
    """Every artifact on ARM, two emulations at a time (qemu runs a guest thread on one host core).
    Each format's artifacts are split in two runner processes: emulated float math is slow (~90 s
    of CPU for an fp32 artifact's 10k images), so the halves keep both cores busy to the end."""
    jobs = []
    for fmt in RUNNERS:
        group = [a for a in artifacts if a.format == fmt]
        jobs += [(fmt, half) for half in (group[0::2], group[1::2]) if half]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(half, pool.submit(run_on_arm, fmt, [paths[a.name] for a in half], images)) for fmt, half in jobs]
        return {a.name: r for half, future in futures for a, r in zip(half, future.result())}


def arm64_rows(manifest: Manifest, cfg, images: np.ndarray, labels: np.ndarray,
               reference_top1: np.ndarray) -> tuple[list[dict], dict]:
    """The arm64 target's rows, and what the report says about the emulated device."""
    artifacts = [a for a in manifest.artifacts if a.status == "ok" and a.format in RUNNERS
                 and selected(a.name, cfg.artifacts)]
    missing = missing_setup()
    if missing:
        return [make_row(**describe_artifact(a), target="arm64", status="not measured", reason=missing)
                for a in artifacts], {"emulator": None, "reason": missing}
    reference_accuracy = float((reference_top1 == labels).mean())
    emulated, rows = emulator(), []
    paths, problems = {}, {}
    for a in artifacts:
        try:
            paths[a.name] = verified_path(manifest, a)
        except ArtifactError as e:
            problems[a.name] = str(e)
    results = run_all([a for a in artifacts if a.name in paths], paths, images)
    for a in artifacts:
        if a.name in problems:
            rows.append(make_row(**describe_artifact(a), target="arm64", status="failed", reason=problems[a.name]))
            continue
        result = results[a.name]
        x86 = x86_logits(a, paths[a.name], images) if result.logits is not None else None
        rows += artifact_rows(a, result, x86, labels, reference_top1, reference_accuracy,
                              manifest.accuracy_budget_pp, emulated)
    markers = {f"{RUNNERS[a.format].format(backend=a.backend)}-aarch64": min(results[a.name].markers[1])
               for a in artifacts if a.name in results and results[a.name].markers.get(1)}
    device = {"emulator": emulated, "cpu": CPU, "threads": 1, "count_batches": list(COUNT_BATCHES),
              "repeats": REPEATS, "marker_overhead_instructions": markers,
              "method": "aarch64 guest instructions per runtime call (qemu plugin native/arm64/insn_count.c): "
                        "the fewest over the repeats less the cost of an empty marker pair, after 3 uncounted "
                        "and 10 discarded marked calls; one thread; no address randomization. Guest "
                        "instructions, not cycles (no caches, no memory latency, no pipeline); emulated wall "
                        "time is not a latency and is not reported"}
    return rows, device


def recommend(rows: list[dict]) -> dict:
    """{"arm64": the lowest batch-1 instruction count among ok rows within the accuracy budget}."""
    candidates = [r for r in rows if r["target"] == "arm64" and r["status"] == "ok" and r["batch"] == 1
                  and r["instructions"] is not None and r["within_budget"]]
    if not any(r["target"] == "arm64" for r in rows):
        return {}
    best = min(candidates, key=lambda r: r["instructions"], default=None)
    return {"arm64": None if best is None else {
        "artifact": best["artifact"], "runtime": best["runtime"], "instructions": best["instructions"],
        "accuracy": best["accuracy"], "emulator": best["emulator"],
        "basis": "lowest aarch64 instruction count per inference at batch 1, 1 thread, among ok rows "
                 "within the accuracy budget"}}
