"""The arm64 target: every ok .onnx and .pte artifact run by the aarch64 build of its runtime.

Phones are ARM, and ONNX Runtime's MLAS and XNNPACK have separate ARM kernels, so an artifact
verified on x86 is not verified for a phone. Here each one runs under qemu-user (user-mode
emulation of one named ARM core) in the arm64 userland that `make arm64` builds in .cache/arm64:
.onnx through native/arm64/ort_runner.cpp on ONNX Runtime's C API (the aarch64 onnxruntime wheel's
libonnxruntime), .pte through native/arm64/pte_runner.cpp linked against the aarch64 executorch
wheel's own libraries. Each row gives accuracy through the ARM build (on `arm64_images` evenly
spaced test images, all of them for the artifact the recommendation picks and under --full: its
accuracy_images says which; runtime/config.py ARM64_IMAGES says why that many), top-1 agreement
with the fp32 PyTorch model, the largest logit difference from the same artifact on x86 on the
same images, and the cost: aarch64 guest instructions per inference at one thread, counted by a
qemu plugin (native/arm64/insn_count.c) between markers around the runtime call. A count does not move with
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
from runtime.manifest import Artifact, ArtifactError, Manifest, loadable_path
from runtime.measure import selected
from runtime.report import recommend
from runtime.report.rows import Row, describe_artifact
from runtime.targets import arm64_setup
from runtime.targets.arm64_runs import (CACHE, COST_PER_BYTE, CPU, REPEATS, ArmResult, Job, Model,
                                        run_jobs)
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
                  emulated: str, full: bool = True) -> list[Row]:
    """One row per counted batch size (one failed row when the ARM run or the parity check failed).
    `labels`, `reference_top1` and `x86`: for the images the ARM logits are of, in their order;
    `full`: those are the whole test set. On a subset the budget verdict is the export's on the
    whole set (recommend.candidates falls back to it): a subset's accuracy differs from the whole
    set's by its sampling error, and is for parity with x86, not a budget."""
    runtime = x86_runtime(artifact) + "-aarch64"
    common = {**describe_artifact(artifact), "runtime": runtime, "target": "arm64", "emulator": emulated}
    if result.error is not None or result.logits is None:
        return [Row(**common, status="failed", reason=f"ARM64 run failed: {result.error}")]
    top1 = result.logits.argmax(1)
    accuracy = float((top1 == labels).mean())
    facts = {"accuracy": accuracy, "top1_agreement": float((top1 == reference_top1).mean()),
             "accuracy_images": len(labels), "accuracy_source": "measured",
             "within_budget": within_budget(accuracy, reference_accuracy, budget_pp) if full else None}
    diff, _, wrong = parity(result.logits, x86, artifact.quantization) if x86 is not None else (None, None, None)
    facts["max_abs_diff_x86"] = diff
    if wrong:
        return [Row(**common, **facts, status="failed", reason=wrong)]
    subset = [] if full else [f"accuracy and parity on {len(labels)} of the test images; within the budget on "
                              f"the whole test set per the export's verification"]
    rows = []
    for batch in sorted(result.calls) or [None]:
        count, flags = net_count(result, batch) if batch else (None, ["not counted"])
        rows.append(Row(**common, **facts, batch=batch, threads=1, instructions=count, flags=flags + subset))
    return rows


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """k of n indices, i * n // k: spread over the whole set (MNIST's test set is two halves of
    different writers), the same in every run."""
    return np.arange(k) * n // k


class Plan:
    """Which emulated runs the target makes, decided as their results come in (arm64_runs.run_jobs).

    Every artifact: its counts, and its logits on one part of the test set: "all", or by default
    "subset" (cfg.arm64_images evenly spaced images). Once every count is in, the artifact the
    recommendation would pick (recommend.candidates and ranking: fewest instructions at batch 1,
    within the budget) also runs "rest", the other images (unless cfg.arm64_whole_pick is off);
    if it then fails parity or the budget on the whole set, the next pick runs its rest."""

    def __init__(self, artifacts: list[Artifact], paths: dict[str, Path], images: np.ndarray, labels: np.ndarray,
                 reference_top1: np.ndarray, manifest: Manifest, cfg, x86_known: dict, emulated: str):
        n = len(labels)
        subset = evenly_spaced(n, cfg.arm64_images) if 0 < cfg.arm64_images < n else None
        self.parts = {"all": np.arange(n)} if subset is None else \
            {"subset": subset, "rest": np.setdiff1d(np.arange(n), subset)}
        self.images, self.labels, self.reference_top1, self.manifest = images, labels, reference_top1, manifest
        self.batch, self.x86_known, self.emulated = cfg.accuracy_batch, x86_known, emulated
        self.whole_pick = cfg.arm64_whole_pick
        self.artifacts = {a.name: a for a in artifacts}
        self.models = {a.name: Model(a.name, paths[a.name], a.format, cost(a)) for a in artifacts}
        self.counted: dict[str, ArmResult] = {}
        self.logits: dict[str, dict[str, np.ndarray]] = {a.name: {} for a in artifacts}
        self.errors: dict[str, str] = {}           # a logits run failed: the runner's error
        self.whole: list[str] = []                 # artifacts run on every part, in the order picked
        self.rows: dict[str, list[Row]] = {}       # final rows, made once an artifact's parts are in
        self.sources: set[str] = set()             # where the x86 side of each parity check came from
        self.x86_parts: dict[tuple[str, str], np.ndarray] = {}  # (artifact, part) -> its x86 logits

    def image_sets(self) -> dict[str, np.ndarray]:
        return {name: self.images[index] for name, index in self.parts.items()} | {"all": self.images}

    def first_jobs(self) -> list[Job]:
        first = next(iter(self.parts))  # "all", or "subset"
        return ([Job("count", m, priority=0) for m in self.models.values()]
                + [Job("logits", m, first) for m in self.models.values()])

    def then(self, job: Job, result: ArmResult) -> list[Job]:
        """Take one result; the jobs it calls for (the rest of the test set for the next pick)."""
        name = job.model.name
        if job.kind == "count":
            self.counted[name] = result
        elif result.error is not None:
            self.errors[name] = result.error
        else:
            self.logits[name][job.images] = result.logits
        if job.kind == "count" or result.error is not None or self.ran_all(name):
            self.judge(name)
        return self.next_pick()

    def ran_all(self, name: str) -> bool:
        """Whether every part this artifact runs is in: all of them once picked, else the first."""
        wanted = self.parts if name in self.whole or "rest" not in self.parts else ["subset"]
        return all(part in self.logits[name] for part in wanted)

    def judge(self, name: str) -> None:
        """The artifact's rows, once its count and the parts it runs are in."""
        counted = self.counted.get(name)
        if counted is None or not (self.ran_all(name) or name in self.errors):
            return
        parts = [p for p in self.parts if p in self.logits[name]]
        index = np.concatenate([self.parts[p] for p in parts]) if parts else np.arange(0)
        logits = np.concatenate([self.logits[name][p] for p in parts]) if parts else None
        error = self.errors.get(name) or (f"while counting: {counted.error}" if counted.error else None)
        x86 = None if error else self.x86(name, parts)
        result = ArmResult(logits=None if error else logits, error=error, markers=counted.markers, calls=counted.calls)
        reference_accuracy = float((self.reference_top1 == self.labels).mean())
        self.rows[name] = artifact_rows(self.artifacts[name], result, x86, self.labels[index], self.reference_top1[index],
                                        reference_accuracy, self.manifest.accuracy_budget_pp, self.emulated,
                                        full=len(index) == len(self.labels))

    def x86(self, name: str, parts: list[str]) -> np.ndarray:
        """The same artifact on x86, on the same parts at the same batch size, in the same order."""
        for part in parts:
            if (name, part) not in self.x86_parts:  # a pick's subset is judged twice: computed once
                known = self.x86_known if part == "all" else {}  # the cpu target's pass is over all images
                self.x86_parts[name, part], source = x86_reference(
                    self.artifacts[name], self.models[name].path, self.images[self.parts[part]], self.batch, known)
                self.sources.add(source)
        return np.concatenate([self.x86_parts[name, part] for part in parts])

    def next_pick(self) -> list[Job]:
        """The rest of the test set for the artifact the recommendation would pick now, if that is
        a new one: the last pick failed on the whole set, or every count just came in."""
        if "rest" not in self.parts or not self.whole_pick or len(self.counted) < len(self.models):
            return []
        if self.whole and self.standing(self.whole[-1]):
            return []
        rows = [r for name in self.models if name not in self.whole or self.standing(name)
                for r in self.rows.get(name) or self.provisional(name)]
        ranked = recommend.ranking(TARGET, recommend.candidates(TARGET, rows, None, self.manifest), None)
        pick = next((c.artifact for c, _ in ranked if c.artifact not in self.whole), None)
        if pick is None:
            return []
        self.whole.append(pick)
        self.rows.pop(pick, None)  # made again from all the parts
        return [Job("logits", self.models[pick], "rest", priority=1)]

    def standing(self, name: str) -> bool:
        """Not known to have failed (its rows so far are ok and within the budget, or not made yet)."""
        return all(r.status == "ok" and r.within_budget is not False for r in self.rows.get(name, []))

    def provisional(self, name: str) -> list[Row]:
        """Until its logits are in, an artifact ranks by its count alone."""
        artifact, counted = self.artifacts[name], self.counted[name]
        count = net_count(counted, 1)[0] if counted.error is None else None
        return [Row(**describe_artifact(artifact), runtime=x86_runtime(artifact) + "-aarch64", target="arm64",
                    batch=1, threads=1, instructions=count)] if count is not None else []


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
    paths, rows = {}, []
    for a in artifacts:
        try:
            paths[a.name] = loadable_path(manifest, a)  # x86_reference may load it in this process
        except ArtifactError as e:
            rows.append(Row(**describe_artifact(a), target="arm64", status="failed", reason=str(e)))
    plan = Plan([a for a in artifacts if a.name in paths], paths, images, labels, reference_top1, manifest, cfg,
                x86_known or {}, emulator())
    run_jobs(plan.first_jobs(), plan.image_sets(), cfg.accuracy_batch, plan.then,
             count_batches=tuple(cfg.arm64_count_batches))
    rows += [r for a in artifacts if a.name in plan.rows for r in plan.rows[a.name]]
    markers = {f"{x86_runtime(a)}-aarch64": min(plan.counted[a.name].markers[1])
               for a in artifacts if a.name in plan.counted and plan.counted[a.name].markers.get(1)}
    device = {"emulator": plan.emulated, "cpu": CPU, "threads": 1, "count_batches": list(cfg.arm64_count_batches),
              "repeats": REPEATS, "marker_overhead_instructions": markers,
              "accuracy_batch": cfg.accuracy_batch, "x86_logits": sorted(plan.sources),
              "accuracy_images": len(plan.parts.get("subset", labels)), "whole_test_set": plan.whole,
              "images": "the whole test set" if "rest" not in plan.parts else
                        f"{cfg.arm64_images} of {len(labels)} test images, i * {len(labels)} // {cfg.arm64_images} "
                        f"for i < {cfg.arm64_images}; the whole set for the artifacts in whole_test_set (the "
                        f"recommendation's pick, and the next ones while a pick failed on the whole set)",
              "method": METHOD}
    return rows, device


METHOD = ("aarch64 guest instructions per runtime call (qemu plugin native/arm64/insn_count.c): the fewest over "
          "the repeats less the cost of an empty marker pair, after 3 uncounted and 10 discarded marked calls, in "
          "a fresh process per artifact that runs only its counts (empty environment, fixed malloc thresholds, "
          "paths relative to its temp folder); one thread; no address randomization. Guest instructions, not "
          "cycles (no caches, no memory latency, no pipeline); emulated wall time is not a latency and is not "
          "reported")

TARGET = Target(name="arm64", title="ARM64 phone CPU (Cortex-A76, emulated)", metric="instructions",
                metric_label="aarch64 instructions per inference at batch 1 (a count, not a latency)",
                baseline=None, how_to_measure="make arm64 && python -m runtime --targets arm64",
                unavailable=unavailable, measure=measure_arm64)
