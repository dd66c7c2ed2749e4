"""From measured rows to the report: ratios to torch-eager, flags, recommendations, regressions."""
from __future__ import annotations

import json
from pathlib import Path

from common.errors import UserError, one_line
from export.manifest import fits

SCHEMA = "latency-report/1"
# What `regressions` reads of each baseline row, and its type: checked when the baseline is
# loaded, before anything is measured, so a malformed baseline never costs a finished run.
BASELINE_ROW = {"artifact": str | None, "runtime": str | None, "target": str, "batch": int | None,
                "threads": int | None, "status": str, "reason": str | None, "p50_us": float | None,
                "accuracy": float | None}
EAGER = {"cpu": "torch-eager", "cuda": "torch-eager-cuda"}  # the baseline of each target


def _key(row: dict) -> tuple:
    return (row["target"], row["batch"], row["threads"])


def add_ratios(rows: list[dict]) -> None:
    """ratio_to_eager = p50 / the same target's torch-eager p50 at the same batch and threads."""
    eager = {_key(r): r["p50_us"] for r in rows
             if r["runtime"] == EAGER.get(r["target"]) and r["status"] == "ok" and r["p50_us"]}
    for r in rows:
        base = eager.get(_key(r))
        if r["status"] in ("ok", "stale") and r["p50_us"] is not None and base:
            r["ratio_to_eager"] = r["p50_us"] / base


def flag_slow_int8(rows: list[dict]) -> None:
    """Flag an int8 row slower (p50) than its fp32 sibling: same format, backend, pruning, runtime, setting."""
    fp32 = {(r["format"], r["backend"], r["pruning"], r["runtime"]) + _key(r): r for r in rows
            if r["quantization"] == "none" and r["status"] == "ok"}
    for r in rows:
        if r["status"] != "ok" or r["p50_us"] is None or not (r["quantization"] or "none").startswith("int8"):
            continue
        sibling = fp32.get((r["format"], r["backend"], r["pruning"], r["runtime"]) + _key(r))
        if sibling and r["p50_us"] > sibling["p50_us"]:
            r["flags"].append(f"int8 slower than its fp32 sibling {sibling['artifact']} "
                              f"({r['p50_us']:.1f} us vs {sibling['p50_us']:.1f} us p50)")


def recommend(rows: list[dict], budget_ok: dict[str, bool]) -> dict[str, dict | None]:
    """Per target: the lowest batch-1, single-thread p50 among ok artifact rows within the accuracy budget.
    `budget_ok` maps artifact name -> within budget (cpu-measured), used for device targets."""
    out = {}
    for target in sorted({r["target"] for r in rows}):
        candidates = [r for r in rows if r["target"] == target and r["status"] == "ok" and r["batch"] == 1
                      and r["threads"] in (1, None) and r["p50_us"] is not None
                      and r["runtime"] != EAGER.get(target)
                      and (r["within_budget"] if r["within_budget"] is not None else budget_ok.get(r["artifact"], False))]
        best = min(candidates, key=lambda r: r["p50_us"], default=None)
        out[target] = None if best is None else {
            "artifact": best["artifact"], "runtime": best["runtime"], "p50_us": best["p50_us"],
            "ratio_to_eager": best["ratio_to_eager"], "accuracy": best["accuracy"],
            "basis": "lowest p50 at batch 1, 1 thread, among ok rows within the accuracy budget"}
    return out


def problems(rows: list[dict]) -> list[str]:
    """What makes the exit code non-zero: failed rows and artifacts over the accuracy budget."""
    out = []
    for r in rows:
        where = f"{r['artifact']} via {r['runtime']} ({r['target']})"
        if r["status"] == "failed":
            out.append(f"{where}: failed: {r['reason']}")
        elif r["within_budget"] is False:
            out.append(f"{where}: accuracy {r['accuracy']:.4f} is over the accuracy budget")
    return sorted(set(out))


def unmeasured(rows: list[dict], targets: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    """The exit-code contract's coverage half (README, "Exit codes"): the run fails when no artifact
    was measured at all, or when a `required` target (named with --targets or in the config file)
    measured none. A target only present by default that this machine cannot measure (no GPU,
    no results file) stays `not measured` with its reason and does not fail the run."""
    measured = {r["target"] for r in rows if r["status"] == "ok" and r["artifact"] not in (None, "checkpoint")}
    out = [] if measured else ["no artifact was measured on any target: every one failed, was filtered "
                               "out or did not export ok; see the rows' reasons"]
    for target in targets:
        if target in required and target not in measured:
            why = sorted({r["reason"] for r in rows if r["target"] == target and r["reason"]})
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
    if not isinstance(old, dict) or old.get("schema") != SCHEMA:
        raise UserError(f"baseline report {path} is not a {SCHEMA} report; {fix}")
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


def regressions(new_rows: list[dict], old_rows: list[dict], tolerance: float) -> list[dict]:
    """Rows that got worse than in the baseline: ok -> not ok, p50 up by more than `tolerance`, accuracy down.
    A row that failed before any timing (batch null) stands for every batch and thread count of its pair."""
    def key(r):
        return (r["artifact"], r["runtime"], r["target"], r["batch"], r["threads"])
    new = {key(r): r for r in new_rows}
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
