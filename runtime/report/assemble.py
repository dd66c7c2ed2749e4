"""From every target's measurements to the report dict (schema: docs/report.md): ratios to each
target's baseline, flags, the recommendation per target, problems, and the baseline comparison.
The dict is what latency_report.json holds and all the renderers read."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.config import as_dict
from common.errors import UserError, one_line
from export.manifest import fits
from export.verify import within_budget
from runtime import environment
from runtime.config import left_out
from runtime.report.recommend import recommend
from runtime.report.rows import Row
from runtime.targets.base import Context, Measured, Target

SCHEMA = "latency-report/2"
READABLE_SCHEMAS = ("latency-report/1", SCHEMA)  # baselines: v1's rows carry every key `regressions` reads
# What `regressions` reads of each baseline row, and its type: checked when the baseline is
# loaded, before anything is measured, so a malformed baseline never costs a finished run.
BASELINE_ROW = {"artifact": str | None, "runtime": str | None, "target": str, "batch": int | None,
                "threads": int | None, "status": str, "reason": str | None, "p50_us": float | None,
                "accuracy": float | None}


def assemble(ctx: Context, targets: list[Target], measured: dict[str, Measured | None], why_not: dict[str, str | None],
             harness_overhead: dict, old: dict | None, required: tuple[str, ...]) -> dict[str, Any]:
    """The report of one run. `measured[name]` is None for a target this machine could not measure
    (`why_not[name]` says why); `required`: targets named explicitly, which must measure something."""
    cfg, manifest, reference = ctx.cfg, ctx.manifest, ctx.reference
    rows = [r for t in targets for r in (measured[t.name].rows if measured[t.name] else
                                         [Row(target=t.name, status="not measured", reason=why_not[t.name])])]
    add_ratios(rows, {t.name: t.baseline for t in targets})
    flag_slow_int8(rows)
    skipped = left_out(cfg, environment.all_cores())
    cards = {}
    for t in targets:
        cards.update(recommend(t, measured[t.name], why_not[t.name], manifest, reference.accuracy))
    out = {
        "schema": SCHEMA,
        "environment": environment.describe(list(ctx.threads), harness_overhead),
        "method": {**ctx.method.describe(), "batches": list(cfg.batches), "threads": list(ctx.threads),
                   "accuracy": "the full test set through each row's own runtime (predict(), batch "
                               f"{cfg.accuracy_batch}), or, where the row's accuracy_source is `export`, the "
                               "export's verification of the same file (sha256) through the same runtime build "
                               "on the same test data; top-1 agreement with the fp32 PyTorch model (an "
                               "`export` row of a pruned artifact has none: the export compared it with its "
                               "pruned source). arm64: accuracy_images test images, see its device block",
                   # what `python -m runtime --full` measures beyond this report ([] for a full one)
                   "left_out": skipped,
                   "peak_rss": "VmHWM of a fresh `python -m runtime.peak_rss` process: load + 10 calls at "
                               f"batch {max(cfg.batches)}" if cfg.peak_rss else "not measured (peak_rss = false)",
                   "ratio_to_eager": "p50 / the target's torch-eager p50 at the same batch and threads"},
        "config": as_dict(cfg),
        "manifest": {"path": str(manifest.path), "run_id": manifest.raw.get("run_id"),
                     "accuracy_budget_pp": manifest.accuracy_budget_pp},
        "reference": {"accuracy": reference.accuracy, "test_count": int(len(reference.labels)),
                      "model": "fp32 PyTorch checkpoint"},
        "targets": {t.name: target_block(t, measured[t.name], why_not[t.name], skipped.get(t.name, []))
                    for t in targets},
        "rows": [r.to_dict() for r in rows],
        "recommendation": {key: card.to_dict() for key, card in cards.items()},
        # export's compression search (manifest `search` objects), for the report's frontier plot
        "compression_search": {"summary": manifest.raw.get("search"),
                               "artifacts": {a.name: {"status": a.status, "search": a.search}
                                             for a in manifest.artifacts if a.search}},
        "artifacts": [{"name": a.name, "format": a.format, "backend": a.backend, "quantization": a.quantization,
                       "pruning": a.pruning, "status": a.status, "reason": a.reason, "size_bytes": a.size_bytes,
                       "test_accuracy": a.test_accuracy, "parity": a.parity} for a in manifest.artifacts],
        "problems": unmeasured(rows, [t.name for t in targets], required) + problems(rows),
        "warnings": warnings(rows),
    }
    if old is not None:
        out["baseline"] = {"path": cfg.baseline, "date_utc": old.get("environment", {}).get("date_utc"),
                           "tolerance": cfg.regression_tolerance,
                           "regressions": regressions(rows, old.get("rows", []), cfg.regression_tolerance)}
    return out


def target_block(target: Target, measured: Measured | None, why_not: str | None,
                 left_out: list[str]) -> dict[str, Any]:
    """report["targets"][name]: what the target is, whether it was measured, on what, what
    `--full` would add, and its extras."""
    block = {"title": target.title, "metric": target.metric, "metric_label": target.metric_label,
             "baseline": target.baseline, "measured": measured is not None, "reason": why_not,
             "how_to_measure": target.how_to_measure, "device": measured.device if measured else None,
             "left_out": left_out}
    return {**block, **(measured.extras if measured else {})}


def _key(row: Row) -> tuple:
    return (row.target, row.device, row.batch, row.threads)


def add_ratios(rows: list[Row], baselines: dict[str, str | None]) -> None:
    """ratio_to_eager = p50 / the same target's baseline (torch-eager) p50 at the same batch and threads."""
    base = {_key(r): r.p50_us for r in rows
            if r.runtime is not None and r.runtime == baselines.get(r.target) and r.status == "ok" and r.p50_us}
    for r in rows:
        b = base.get(_key(r))
        if r.status in ("ok", "stale") and r.p50_us is not None and b:
            r.ratio_to_eager = r.p50_us / b


def flag_slow_int8(rows: list[Row]) -> None:
    """Flag an int8 row slower (p50) than its fp32 sibling: same format, backend, pruning, runtime, setting."""
    def sibling_key(r: Row) -> tuple:
        return (r.format, r.backend, r.pruning, r.runtime) + _key(r)
    fp32 = {sibling_key(r): r for r in rows if r.quantization == "none" and r.status == "ok" and r.p50_us}
    for r in rows:
        if r.status != "ok" or r.p50_us is None or not (r.quantization or "none").startswith("int8"):
            continue
        sibling = fp32.get(sibling_key(r))
        if sibling and r.p50_us > sibling.p50_us:
            r.flags.append(f"int8 slower than its fp32 sibling {sibling.artifact} "
                           f"({r.p50_us:.1f} us vs {sibling.p50_us:.1f} us p50)")


def _where(r: Row) -> str:
    return f"{r.artifact} via {r.runtime} ({r.target}{f', {r.device}' if r.device else ''})"


def problems(rows: list[Row]) -> list[str]:
    """What makes the exit code non-zero: failed rows and artifacts over the accuracy budget."""
    out = []
    for r in rows:
        if r.status == "failed":
            out.append(f"{_where(r)}: failed: {r.reason}")
        elif r.within_budget is False:
            out.append(f"{_where(r)}: accuracy {r.accuracy:.4f} is over the accuracy budget")
    return sorted(set(out))


def warnings(rows: list[Row]) -> list[str]:
    """Shown beside the problems, without failing the run: device results measured on another build."""
    return sorted({f"{_where(r)}: stale: {r.reason}" for r in rows if r.status == "stale"})


def unmeasured(rows: list[Row], targets: list[str], required: tuple[str, ...]) -> list[str]:
    """The exit-code contract's coverage half (README, "Exit codes"): the run fails when no artifact
    was measured at all, or when a `required` target (named with --targets or in the config file)
    measured none. A target only present by default that this machine cannot measure (no GPU,
    no results file) stays `not measured` with its reason and does not fail the run."""
    measured = {r.target for r in rows if r.status == "ok" and r.artifact not in (None, "checkpoint")}
    out = [] if measured else ["no artifact was measured on any target: every one failed, was filtered "
                               "out or did not export ok; see the rows' reasons"]
    for target in targets:
        if target in required and target not in measured:
            why = sorted({r.reason for r in rows if r.target == target and r.reason})
            out.append(f"target {target} was asked for but measured no artifact"
                       f"{f' ({why[0]})' if why else ''}")
    return out


def load_baseline(path: Path) -> dict:
    """A previous latency_report.json, checked against what the comparison reads; one UserError otherwise."""
    fix = "pass a latency_report.json written by `python -m runtime`"
    try:
        old = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise UserError(f"baseline report {path} not found; {fix}") from None
    except (OSError, ValueError, RecursionError) as e:  # ValueError: bad JSON or not UTF-8
        raise UserError(f"baseline report {path} is not valid JSON ({one_line(e)[:120]}); {fix}") from None
    if not isinstance(old, dict) or old.get("schema") not in READABLE_SCHEMAS:
        raise UserError(f"baseline report {path} is not a {' or '.join(READABLE_SCHEMAS)} report; {fix}")
    rows = old.get("rows")
    if not isinstance(rows, list):
        raise UserError(f"baseline report {path} has no list of rows; {fix}")
    for i, row in enumerate(rows):
        wrong = ([k for k, kind in BASELINE_ROW.items() if k not in row or not fits(row[k], kind)]
                 if isinstance(row, dict) else ["the row is not an object"])
        if wrong:
            raise UserError(f"baseline report {path}: rows[{i}] has missing or mistyped {wrong}; {fix}")
    if not isinstance(old.get("environment", {}), dict):
        raise UserError(f"baseline report {path}: environment is not an object; {fix}")
    return old


def regressions(new_rows: list[Row], old_rows: list[dict], tolerance: float) -> list[dict]:
    """Rows that got worse than in the baseline (rows read back from its JSON): ok -> not ok, p50 up
    by more than `tolerance`, accuracy down. A row that failed before any timing (batch null) stands
    for every batch and thread count of its pair."""
    def key(r):
        return (r["artifact"], r["runtime"], r["target"], r["batch"], r["threads"])
    new = {key(r): r for r in (row.to_dict() for row in new_rows)}
    out, seen = [], set()
    for before in old_rows:
        if before["status"] != "ok":
            continue
        k = key(before)
        r = new.get(k) or new.get(k[:3] + (None, None)) or new.get(k[:3] + (None, k[4]))
        if r is None:
            continue  # not measured this time (filtered out): nothing to compare
        what = dict(zip(("artifact", "runtime", "target", "batch", "threads"), key(r)))
        if r["status"] != "ok":
            if key(r) not in seen:
                seen.add(key(r))
                out.append({**what, "kind": "status", "old": "ok", "new": r["status"], "detail": r["reason"]})
            continue
        if before["p50_us"] and r["p50_us"] > before["p50_us"] * (1 + tolerance):
            out.append({**what, "kind": "p50_us", "old": before["p50_us"], "new": r["p50_us"],
                        "detail": f"{r['p50_us'] / before['p50_us']:.2f}x the baseline p50"})
        if before["accuracy"] is not None and r["accuracy"] is not None and r["accuracy"] < before["accuracy"] - 1e-9:
            out.append({**what, "kind": "accuracy", "old": before["accuracy"], "new": r["accuracy"],
                        "detail": f"{(before['accuracy'] - r['accuracy']) * 100:.2f} pp lower"})
    return out
