"""Interleaved comparisons, made after every row is measured (runtime/run.py build_report):

- runner_overhead: per runtime, what its runner's predict() costs beyond the runtime's own call
  (runners.RUNTIMES[...].raw_call), both timed in alternating rounds at batch 1;
- interleaved_ratio: the fastest rows of a target re-timed against its torch-eager baseline in
  alternating rounds, each with its median per-round ratio and a 95% interval; the report's
  recommendation ranks by it (runtime/report/recommend.py) and `make bench` checks that interval.

Rows are timed one pair after another, minutes apart on a long report, so two rows' ratio
carries the drift of a shared machine's load between them; a ratio taken round by round,
a few milliseconds apart, does not.
"""
from __future__ import annotations

import numpy as np

from common.errors import one_line
from runtime import harness, runners, stats
from runtime.report.rows import Row

# Rows re-timed against the baseline: every eligible row whose own p50 is within SPREAD of the
# fastest one's, at least CANDIDATES and at most MAX_CANDIDATES of them, fastest first. Row p50s
# are timed minutes apart: on a busy shared machine one artifact's p50 moved by 1.6x between two
# reports, so a fixed top few could leave out the row that wins when timed interleaved. Each
# candidate costs its share of RATIO_ROUNDS rounds (a few seconds at batch 1).
CANDIDATES, MAX_CANDIDATES, SPREAD = 6, 16, 1.5
RATIO_ROUNDS = 200   # the 95% interval of a median over 200 rounds spans its 86th..115th smallest values


def _threads(bench) -> int:
    return 1 if 1 in bench.threads else min(bench.threads)


def _batch_1(bench) -> np.ndarray:
    return np.ascontiguousarray(bench.images[:1])


def _jobs_by_pair(jobs) -> dict:
    return {(j.facts["artifact"], j.runtime): j for j in jobs if j.load is not None}


def runner_overhead(jobs, rows: list[Row], bench) -> dict:
    """{runtime: overhead of its runner on the artifact of its fastest batch-1 row}; one runner
    loaded at a time (ExecuTorch can only resize its threadpool while no program is loaded)."""
    threads, by_pair, fastest = _threads(bench), _jobs_by_pair(jobs), {}
    for r in rows:
        timed = r.status == "ok" and r.batch == 1 and r.threads == threads
        if timed and (r.artifact, r.runtime) in by_pair:
            if r.runtime not in fastest or r.p50_us < fastest[r.runtime].p50_us:
                fastest[r.runtime] = r
    out = {}
    for runtime, row in fastest.items():
        entry = {"artifact": row.artifact, "target": row.target, "threads": threads,
                 "raw_call": runners.RUNTIMES[runtime].raw_call}
        try:
            runner = by_pair[(row.artifact, runtime)].load(threads)
            entry.update(harness.runner_overhead(runner, _batch_1(bench), bench.method))
        except Exception as e:  # a runtime that loaded once and fails now is reported, not a crash
            entry["error"] = one_line(e)
        runner = None  # dropped before the next load
        out[runtime] = entry
    return out


def eligible(row: Row, threads: int, baseline: str) -> bool:
    """Rows the recommendation may choose from: ok, batch 1, within the budget, not the baseline."""
    return (row.status == "ok" and row.batch == 1 and row.threads == threads and row.runtime != baseline
            and row.p50_us is not None and row.within_budget is True)


def interleaved_ratio(jobs, rows: list[Row], bench, baseline: str) -> dict | None:
    """The fastest eligible rows (see CANDIDATES) and the `baseline` runtime (torch-eager), all loaded at once,
    timed in RATIO_ROUNDS alternating rounds; per candidate the median of its per-round p50 / the
    baseline's p50 and a 95% interval."""
    threads, by_pair = _threads(bench), _jobs_by_pair(jobs)
    base = next((j for j in jobs if j.runtime == baseline and j.load is not None), None)
    rows = sorted((r for r in rows if eligible(r, threads, baseline) and (r.artifact, r.runtime) in by_pair),
                  key=lambda r: r.p50_us)
    rows = [r for i, r in enumerate(rows[:MAX_CANDIDATES]) if i < CANDIDATES or r.p50_us <= SPREAD * rows[0].p50_us]
    if base is None or not rows:
        return None
    method = {"baseline": baseline, "target": base.target, "batch": 1, "threads": threads, "rounds": RATIO_ROUNDS,
              "calls_per_round": harness.calls_per_round(bench.method),
              "statistic": "median over rounds of (candidate p50 / torch-eager p50 of the same round)",
              "interval": "95% distribution-free interval of that median (sign test, order statistics)"}
    try:
        calls = {baseline: base.load(threads).predict}
        for r in rows:
            calls[r.artifact, r.runtime] = by_pair[(r.artifact, r.runtime)].load(threads).predict
        p50 = harness.interleaved(calls, _batch_1(bench), RATIO_ROUNDS, method["calls_per_round"], bench.method.warmup)
    except Exception as e:
        return {**method, "error": one_line(e), "candidates": [], "fastest": None}
    candidates = []
    for (artifact, runtime) in list(calls)[1:]:
        ratios = p50[artifact, runtime] / p50[baseline]
        low, high = stats.median_interval(ratios)
        candidates.append({"artifact": artifact, "runtime": runtime, "ratio": float(np.median(ratios)),
                           "ratio_ci95": [low, high], "p50_us": float(np.median(p50[artifact, runtime])),
                           "baseline_p50_us": float(np.median(p50[baseline]))})
    return {**method, "candidates": candidates, "fastest": min(candidates, key=lambda c: c["ratio"])}
