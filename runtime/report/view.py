"""What the report's first screen says, from the report dict alone (so a re-render needs no
measuring): the header, one card per target and device, the problems. Figures are formatted
here, once, for both the HTML and the Markdown templates; the templates only lay them out.
"""
from __future__ import annotations

import dataclasses

# What a note says for figures a default report leaves out: `python -m runtime --full` measures the
# exhaustive matrix, and the report's config records (`full`) which kind of run it was.
NOT_IN_DEFAULT = "not measured in the default report (`python -m runtime --full`)"


def is_default_run(report: dict) -> bool:
    """True for a report that left out what `--full` measures (runtime/config.py left_out, recorded
    in the report's method block)."""
    return bool(report.get("method", {}).get("left_out"))


def us(value: float | None) -> str:
    """A latency: three significant figures under 100 µs, whole µs under 10 ms, then ms."""
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:,.1f} ms"
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.3g} µs"


def count(value: float | None) -> str:
    """An instruction count: 1.23 M, 456 k."""
    if value is None:
        return "–"
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            v = value / scale
            return f"{v:.{0 if v >= 100 else 1 if v >= 10 else 2}f} {unit}"  # three significant figures
    return f"{value:.0f}"


def size(value: int | None) -> str:
    if value is None:
        return "–"
    if value >= 1024 * 1024:
        return f"{value / 1024 / 1024:.2f} MiB"
    return f"{value / 1024:.0f} KiB"


def percent(fraction: float | None, digits: int = 2) -> str:
    return "–" if fraction is None else f"{fraction * 100:.{digits}f}%"


def pp(value: float) -> str:
    """Percentage points with a sign; a difference that rounds to zero is +0.00, never -0.00."""
    return f"{round(value, 2) + 0.0:+.2f}"


def times(value: float) -> str:
    """A ratio: 13.4×, 1.41×, 0.912×."""
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×" if value >= 1 else f"{value:.3f}×"


def metric_text(metric: str | None, value: float | None) -> str:
    """A value of a target's metric (runtime/targets/base.py `Target.metric`) as its card shows it."""
    return count(value) if metric == "instructions" else us(value)


@dataclasses.dataclass(frozen=True)
class Figure:
    """One headline figure of a card: its value big, a label and a note small."""
    kind: str                  # metric | speedup | accuracy | size: where the Markdown table puts it
    label: str
    value: str
    note: str = ""
    bad: bool = False          # drawn in red: over the accuracy budget
    meter: float | None = None  # 0..1: how much of the accuracy budget the drop uses


@dataclasses.dataclass(frozen=True)
class Card:
    key: str                    # report["recommendation"]'s key: the target, with the device when several
    target: str
    title: str
    device: str | None          # what it ran on
    measured: bool
    artifact: str | None = None
    runtime: str | None = None
    figures: tuple[Figure, ...] = ()
    runner_up: str | None = None          # the runner-up artifact,
    runner_up_runtime: str | None = None  # its runtime,
    runner_up_figure: str | None = None   # and the figure it lost on, beside the pick's
    why: str | None = None                # recommend.py's reason, in full
    reason: str | None = None   # why not measured, or why nothing qualified
    how_to_measure: str | None = None

    def figure(self, kind: str) -> Figure | None:
        return next((f for f in self.figures if f.kind == kind), None)


def device_line(block: dict, card_device: str | None) -> str | None:
    """What a target ran on, in a few words, from its report["targets"] block."""
    if card_device:
        return card_device
    device = block.get("device") or {}
    inner = device.get("device") if isinstance(device.get("device"), dict) else device
    parts = [inner.get(k) for k in ("cpu_model", "gpu", "model", "browser", "runtime", "emulator")]
    if inner.get("cores"):
        parts.insert(1, f"{inner['cores']} cores")
    return " · ".join(str(p) for p in parts if p) or None


def card(report: dict, key: str, rec: dict) -> Card:
    block = report["targets"].get(rec["target"], {})
    base = dict(key=key, target=rec["target"], title=rec["title"], device=device_line(block, rec.get("device")))
    if not rec["measured"]:
        return Card(**base, measured=False, reason=rec["reason"], how_to_measure=rec["how_to_measure"])
    if rec["best"] is None:
        return Card(**base, measured=True, reason=rec["reason"], how_to_measure=block.get("how_to_measure"))
    best, runner_up = rec["best"], rec["runner_up"]
    figures = (Figure("metric", rec["metric_label"], metric_text(rec["metric"], best["value"])), speed_up(report, rec),
               accuracy_figure(rec), size_figure(rec))
    return Card(**base, measured=True, artifact=best["artifact"], runtime=best["runtime"],
                figures=tuple(f for f in figures if f is not None),
                runner_up=runner_up["artifact"] if runner_up else None,
                runner_up_runtime=runner_up["runtime"] if runner_up else None,
                runner_up_figure=lost_on(report, rec) if runner_up else None, why=rec["why"])


def lost_on(report: dict, rec: dict) -> str:
    """The figure the runner-up lost on, beside the pick's: the interleaved speed-up where both have
    one, else the target's metric."""
    best, other = rec["best"], rec["runner_up"]
    if best.get("interleaved_ratio") and other.get("interleaved_ratio"):
        theirs, ours = close_pair(1 / other["interleaved_ratio"], 1 / best["interleaved_ratio"])
        baseline = report["targets"][rec["target"]].get("baseline")
        return f"{theirs}× faster than {baseline} against this one's {ours}× (medians of interleaved rounds)"
    metric = rec["metric"]
    return f"{metric_text(metric, other['value'])} against this one's {metric_text(metric, best['value'])}"


def close_pair(a: float, b: float) -> tuple[str, str]:
    """Two figures with as many decimals (1 to 3) as it takes to tell them apart."""
    for digits in (1, 2, 3):
        if f"{a:.{digits}f}" != f"{b:.{digits}f}":
            break
    return f"{a:.{digits}f}", f"{b:.{digits}f}"


def speed_up(report: dict, rec: dict) -> Figure | None:
    """Against the target's baseline (torch-eager): the interleaved ratio with its interval when the
    target measured one, else the ratio of p50s; on a target without a baseline, against the same
    format's fp32 artifact on that target."""
    best = rec["best"]
    baseline = report["targets"].get(rec["target"], {}).get("baseline")
    if best.get("interleaved_ratio"):
        low, high = best["interleaved_ratio_ci95"]
        rounds = report["targets"][rec["target"]].get("interleaved_ratio", {}).get("rounds")
        return Figure("speedup", f"faster than {baseline}", times(1 / best["interleaved_ratio"]),
                      f"95% interval {times(1 / high)}–{times(1 / low)}, {rounds} interleaved rounds")
    if best.get("ratio_to_eager"):
        return Figure("speedup", f"faster than {baseline}", times(1 / best["ratio_to_eager"]),
                      "ratio of the two p50s in this run (no interval)")
    fp32 = next((r for r in report["rows"] if r["target"] == rec["target"] and r["artifact"] == rec["fp32_artifact"]
                 and r["device"] == rec["device"] and r["runtime"] == best["runtime"] and r["status"] == "ok"
                 and r["batch"] == 1 and r["threads"] in (1, None) and r.get(rec["metric"])), None)
    if fp32 is None or fp32["artifact"] == best["artifact"]:
        return None  # nothing to compare with on this target
    fewer = "fewer instructions" if rec["metric"] == "instructions" else "faster"
    return Figure("speedup", f"{fewer} than fp32", times(fp32[rec["metric"]] / best["value"]),
                  f"against {fp32['artifact']} here; no torch-eager on this target")


def accuracy_figure(rec: dict) -> Figure | None:
    if rec["accuracy"] is None:
        return None
    drop, budget = rec["drop_pp"], rec["budget_pp"]
    source = "" if rec["accuracy_source"] == "measured" else " (the export's x86 measurement)"
    return Figure("accuracy", "test accuracy", percent(rec["accuracy"]),
                  f"{pp(-drop)} pp vs fp32, budget {budget:.2f} pp{source}", bad=drop > budget + 1e-9,
                  meter=min(max(drop / budget, 0.0), 1.0) if budget else None)


def size_figure(rec: dict) -> Figure | None:
    if rec["size_bytes"] is None:
        return None
    note = f"{percent(rec['size_vs_fp32'], 1)} of the fp32 file" if rec["size_vs_fp32"] else ""
    return Figure("size", "file size", size(rec["size_bytes"]), note)


def cards(report: dict) -> list[Card]:
    return [card(report, key, rec) for key, rec in report["recommendation"].items()]


@dataclasses.dataclass(frozen=True)
class Header:
    title: str
    facts: tuple[tuple[str, str], ...]   # (label, value) under the title
    quick: str | None                     # a smoke-test run's warning: its counts are too small to decide from
    left_out: str | None = None           # what this default report did not measure that --full does


def header(report: dict) -> Header:
    env, method, ref = report["environment"], report["method"], report["reference"]
    facts = (("reference", f"fp32 PyTorch {percent(ref['accuracy'])} on {ref['test_count']:,} test images"),
             ("accuracy budget", f"{report['manifest']['accuracy_budget_pp']} pp"),
             ("machine", f"{env['cpu_model']}, {env['cores']} cores, load {env['load_average_1m_5m'][0]}"),
             ("measured", f"{env['date_utc'].replace('T', ' ').removesuffix('Z')} UTC, "
                          f"commit {env['git_commit'][:12]}"),
             ("export run", str(report["manifest"].get("run_id"))))
    quick = None
    if method["timed_calls_batch_1"] < 1000 or method["warmup_calls"] < 100:
        quick = (f"Smoke-test counts ({method['warmup_calls']} warm-up, {method['timed_calls_batch_1']} timed calls "
                 "at batch 1): the figures show the page works, not what to ship; run `python -m runtime`.")
    # one line above the cards: the list itself (several lines) is under Method at the end
    left_out = ("Default report: it measures what the cards and the table need; what it leaves out is listed "
                "under Method at the end. `python -m runtime --full` measures them.") if is_default_run(report) else None
    return Header("Latency and accuracy report", facts, quick, left_out)


@dataclasses.dataclass(frozen=True)
class Problems:
    problems: tuple[str, ...]     # failed rows, rows over the accuracy budget, targets asked for and not measured
    warnings: tuple[str, ...]     # stale device results
    regressions: tuple[str, ...]  # against --baseline
    baseline: str | None          # what the regressions were compared with


def problems(report: dict) -> Problems:
    base = report.get("baseline")
    regressions = tuple(f"{g['artifact']} via {g['runtime']} ({g['target']}, batch {g['batch']}, threads "
                        f"{g['threads']}): {g['kind']} {g['old']} → {g['new']} ({g['detail']})"
                        for g in (base or {}).get("regressions", []))
    where = f"{base['path']} ({base['date_utc']}), tolerance {base['tolerance']:.0%}" if base else None
    return Problems(tuple(report["problems"]), tuple(report["warnings"]), regressions, where)
