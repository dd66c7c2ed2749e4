"""The one place a recommendation is made: per target, and per device of a target (one phone,
one card), the artifact to ship there and the runner-up it beat.

Candidates are the target's ok rows at batch 1 and its fewest threads timed (one, unless the
run was told otherwise; a device row names no thread count), not its baseline runtime (torch-eager), with a figure for the target's metric
(runtime/targets/base.py `Target.metric`: p50 latency, or aarch64 instructions on arm64) and
within the accuracy budget: the row's own verdict where it measured accuracy, else the export's
verdict on the same file. Candidates that the target re-timed interleaved against its baseline
(the cpu target: runtime/compare.py) rank first, by the median of their per-round ratio, which a
shared machine's drift cannot move the way it moves p50s taken minutes apart; the rest by metric.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from export.verify import within_budget
from runtime.manifest import Manifest
from runtime.report.rows import Row
from runtime.targets.base import Measured, Target


@dataclasses.dataclass(frozen=True)
class Contender:
    artifact: str
    runtime: str
    value: float                          # the target's metric
    ratio_to_eager: float | None          # p50 / baseline p50 in the same rows
    interleaved_ratio: float | None       # median per-round ratio to the baseline (ranked targets)
    interleaved_ratio_ci95: list[float] | None


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """One card of the report: a target (and device) and what to ship there, or why nothing."""
    target: str
    title: str
    device: str | None
    measured: bool                        # False: this machine could not measure the target
    reason: str | None = None             # why not measured, or why nothing qualified
    how_to_measure: str | None = None     # the command that would measure it
    metric: str | None = None             # Row field minimised: p50_us | instructions
    metric_label: str | None = None
    best: Contender | None = None
    runner_up: Contender | None = None
    why: str | None = None                # why `best` won over `runner_up`, in figures
    accuracy: float | None = None         # test accuracy of `best` (the row's, else the export's)
    accuracy_source: str | None = None    # measured on this target | export (the export's check of the same file)
    reference_accuracy: float | None = None
    drop_pp: float | None = None          # reference - accuracy, percentage points
    budget_pp: float | None = None
    size_bytes: int | None = None
    fp32_artifact: str | None = None      # the fp32, unpruned artifact of the same format and backend
    size_vs_fp32: float | None = None     # size_bytes / that artifact's size

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if self.best:  # flat copies of the pick, the keys tools and tests read
            out.update(artifact=self.best.artifact, runtime=self.best.runtime,
                       interleaved_ratio=self.best.interleaved_ratio,
                       interleaved_ratio_ci95=self.best.interleaved_ratio_ci95,
                       ratio_to_eager=self.best.ratio_to_eager, **{self.metric: self.best.value})
        return out


def card_key(target: str, device: str | None, devices: int) -> str:
    """The report's key of one card: the target's name, with the device when it has several."""
    return target if device is None or devices == 1 else f"{target} {device}"


def recommend(target: Target, measured: Measured | None, why_not: str | None, manifest: Manifest,
              reference_accuracy: float) -> dict[str, Recommendation]:
    """The cards of one target: one per device its rows name (one when they name none)."""
    if measured is None:
        return {target.name: Recommendation(target.name, target.title, None, measured=False, reason=why_not,
                                            how_to_measure=target.how_to_measure)}
    devices = list(dict.fromkeys(r.device for r in measured.rows if r.target == target.name)) or [None]
    return {card_key(target.name, d, len(devices)): _card(target, measured, d, manifest, reference_accuracy)
            for d in devices}


def _card(target: Target, measured: Measured, device: str | None, manifest: Manifest,
          reference_accuracy: float) -> Recommendation:
    ranked = ranking(target, candidates(target, measured.rows, device, manifest), measured.ranking)
    base = dict(target=target.name, title=target.title, device=device, measured=True, metric=target.metric,
                metric_label=target.metric_label, reference_accuracy=reference_accuracy,
                budget_pp=manifest.accuracy_budget_pp)
    if not ranked:
        return Recommendation(**base, reason="no ok artifact within the accuracy budget was measured at batch 1")
    best, row = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else None
    accuracy, source = row.accuracy, row.accuracy_source or "measured"
    if accuracy is None:  # a device row: the export's figure for the same file
        accuracy, source = next((a.test_accuracy for a in manifest.artifacts if a.name == row.artifact), None), "export"
    fp32 = next((a for a in manifest.artifacts if a.format == row.format and a.backend == row.backend
                 and a.quantization == "none" and a.pruning == "none" and a.status == "ok"), None)
    return Recommendation(
        **base, best=best, runner_up=runner_up, why=why(target, best, runner_up, measured.ranking),
        accuracy=accuracy, accuracy_source=source,
        drop_pp=None if accuracy is None else (reference_accuracy - accuracy) * 100,
        size_bytes=row.size_bytes, fp32_artifact=fp32.name if fp32 else None,
        size_vs_fp32=row.size_bytes / fp32.size_bytes if fp32 and row.size_bytes else None)


def candidates(target: Target, rows: list[Row], device: str | None, manifest: Manifest) -> list[Row]:
    fewest = min((r.threads for r in rows if r.target == target.name and r.threads is not None), default=None)
    exported_ok = {a.name: a.test_accuracy is not None and manifest.reference_accuracy is not None
                   and within_budget(a.test_accuracy, manifest.reference_accuracy, manifest.accuracy_budget_pp)
                   for a in manifest.artifacts}
    return [r for r in rows if r.target == target.name and r.device == device and r.status == "ok"
            and r.batch == 1 and r.threads == fewest and r.runtime != target.baseline
            and getattr(r, target.metric) is not None
            and (r.within_budget if r.within_budget is not None else exported_ok.get(r.artifact, False))]


def ranking(target: Target, rows: list[Row], comparison: dict | None) -> list[tuple[Contender, Row]]:
    """Contenders best first: those compared interleaved by their median ratio, then the rest by metric."""
    compared = {(c["artifact"], c["runtime"]): c for c in (comparison or {}).get("candidates", [])}
    out = []
    for r in rows:
        c = compared.get((r.artifact, r.runtime), {})
        out.append((Contender(r.artifact, r.runtime, getattr(r, target.metric), r.ratio_to_eager,
                              c.get("ratio"), c.get("ratio_ci95")), r))
    return sorted(out, key=lambda pair: (pair[0].interleaved_ratio is None,
                                         pair[0].interleaved_ratio or 0.0, pair[0].value))


def why(target: Target, best: Contender, runner_up: Contender | None, comparison: dict | None) -> str:
    """Why `best` won, in the figures that decided it."""
    if runner_up is None:
        return "the only ok artifact within the accuracy budget"
    if best.interleaved_ratio is not None and runner_up.interleaved_ratio is not None:
        low, high = best.interleaved_ratio_ci95
        return (f"lowest median ratio to {target.baseline} over {comparison['rounds']} interleaved rounds: "
                f"{best.interleaved_ratio:.3f}x (95% interval {low:.3f}-{high:.3f}) against "
                f"{runner_up.interleaved_ratio:.3f}x for {runner_up.artifact} via {runner_up.runtime}")
    unit, figure = ("instructions", ",.0f") if target.metric == "instructions" else ("us", ",.1f")
    return (f"lowest {target.metric_label}: {best.value:{figure}} {unit} against {runner_up.value:{figure}} {unit} "
            f"for {runner_up.artifact} via {runner_up.runtime}")
