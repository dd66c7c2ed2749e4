"""latency_report.md and latency_report.html from the report dict (the JSON is the source of truth)."""
from __future__ import annotations

import html as html_lib
import json

from runtime.report import plots

COLUMNS = [  # (header, row key, format)
    ("artifact", "artifact", "{}"), ("runtime", "runtime", "{}"), ("device", "device", "{}"), ("batch", "batch", "{}"),
    ("threads", "threads", "{}"), ("status", "status", "{}"), ("accuracy %", "accuracy", "pct"),
    ("agree %", "top1_agreement", "pct"), ("p50 us", "p50_us", "{:.1f}"), ("p90 us", "p90_us", "{:.1f}"),
    ("p99 us", "p99_us", "{:.1f}"), ("mean us", "mean_us", "{:.1f}"), ("trim. mean us", "trimmed_mean_us", "{:.1f}"),
    ("CV", "cv", "{:.2f}"), ("img/s", "throughput", "{:,.0f}"), ("x eager", "ratio_to_eager", "{:.3f}"),
    ("mem. floor us", "memory_floor_us", "{:.1f}"), ("nearer floor", "nearer_floor", "{}"),
    ("over floor us", "over_floor_us", "{:+.1f}"),
    ("load ms", "load_ms", "{:.1f}"), ("first ms", "first_ms", "{:.2f}"), ("RSS MB", "peak_rss_mb", "{:.0f}"),
    ("size KiB", "size_bytes", "kib"), ("reason / flags", None, "notes"),
]

# arm64 rows carry a cost, not a latency: the instruction count, beside the same artifact's x86
# p50 (cpu target, same batch, 1 thread) and the two rankings at batch 1.
ARM64_COLUMNS = [
    ("artifact", "artifact", "{}"), ("runtime", "runtime", "{}"), ("batch", "batch", "{}"),
    ("threads", "threads", "{}"), ("status", "status", "{}"), ("accuracy %", "accuracy", "pct"),
    ("agree %", "top1_agreement", "pct"), ("instructions", "instructions", "{:,}"),
    ("max diff vs x86", "max_abs_diff_x86", "{:.2g}"), ("x86 p50 us", "x86_p50_us", "{:.1f}"),
    ("rank by instr.", "rank_instructions", "{}"), ("rank by x86 p50", "rank_x86_p50", "{}"),
    ("size KiB", "size_bytes", "kib"), ("reason / flags", None, "notes"),
]


def with_x86(report: dict, rows: list[dict]) -> list[dict]:
    """arm64 rows with the x86 p50 of the same artifact and runtime, and their batch-1 ranks."""
    p50 = {(r["artifact"], r["runtime"], r["batch"]): r["p50_us"] for r in report["rows"]
           if r["target"] == "cpu" and r["threads"] == 1 and r["status"] == "ok"}
    out = [{**r, "x86_p50_us": p50.get((r["artifact"], (r["runtime"] or "").removesuffix("-aarch64"), r["batch"]))}
           for r in rows]  # a "not measured" row (no set-up) names no runtime
    for key, rank in (("instructions", "rank_instructions"), ("x86_p50_us", "rank_x86_p50")):
        ranked = sorted((r for r in out if r["batch"] == 1 and r[key] is not None), key=lambda r: r[key])
        for i, r in enumerate(ranked, 1):
            r[rank] = i
    return out


def cell(row: dict, key: str | None, fmt: str) -> str:
    if fmt == "notes":
        return "; ".join(([row["reason"]] if row["reason"] else []) + row["flags"])
    value = row.get(key)
    if value is None:
        return "-"
    if fmt == "pct":
        return f"{value * 100:.2f}"
    if fmt == "kib":
        return f"{value / 1024:.0f}"
    return fmt.format(value)


def tables(report: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, cells) per target, rows in measuring order."""
    out = []
    for target in dict.fromkeys(r["target"] for r in report["rows"]):
        rows = [r for r in report["rows"] if r["target"] == target]
        # the device column only where rows name one (android: a table with every phone's rows)
        cols = [c for c in COLUMNS if c[1] != "device" or any(r.get("device") for r in rows)]
        if target == "arm64":
            rows, cols = with_x86(report, rows), ARM64_COLUMNS
        out.append((target, [c[0] for c in cols], [[cell(r, k, f) for _, k, f in cols] for r in rows]))
    return out


def summary_lines(report: dict) -> list[str]:
    env, method = report["environment"], report["method"]
    lines = [
        f"- Machine: {env['cpu_model']}, {env['cores']} cores, load average {env['load_average_1m_5m']} "
        f"(shared machines: compare ratios within one report, not absolute numbers across reports)",
        f"- Date {env['date_utc']}, commit {env['git_commit']}, versions: "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        f"- Method: {method['clock']}; {method['warmup_calls']} warm-up calls, {method['timed_calls_batch_1']} timed "
        f"calls at batch 1, >= {method['timed_seconds_batch_gt_1']} s (and >= {method['min_timed_calls_batch_gt_1']} "
        f"calls) at larger batches; batches {method['batches']}, threads {method['threads']}",
        f"- Harness overhead (an empty predict timed the same way): p50 {env['harness_overhead']['p50_us']:.2f} us",
        f"- Accuracy: {method['accuracy']}; reference {report['reference']['accuracy'] * 100:.2f}%, "
        f"budget {report['manifest']['accuracy_budget_pp']} pp",
        f"- Peak RSS: {method['peak_rss']}",
    ]
    arm = report["targets"].get("arm64", {}).get("device") or {}
    if arm.get("emulator"):
        overhead = ", ".join(f"{k} {v:,.0f}" for k, v in arm["marker_overhead_instructions"].items())
        lines.append(f"- ARM64 ({arm['emulator']}): {arm['method']}; markers' own cost, subtracted: {overhead}")
    floor = report["targets"].get("cpu", {}).get("compute_floor") or {"floor_us": {}}
    for t, per_batch in floor["floor_us"].items():
        lines.append(f"- Compute floor at {t} thread(s): {floor['flops_per_sample']:,} FLOP/image over "
                     f"{floor['peak_gflops'][t]} GFLOP/s ({floor['matmul']}) = "
                     + ", ".join(f"{v:.2f} us at batch {b}" for b, v in per_batch.items()))
    return lines + overhead_lines(report)


def overhead_lines(report: dict) -> list[str]:
    """Each runner's cost over its runtime's own call, beside the harness's; the memory floor's method."""
    lines = []
    cpu = report["targets"].get("cpu", {})
    for runtime, o in (cpu.get("runner_overhead") or {}).items():
        if "error" in o:
            lines.append(f"- Runner overhead of {runtime}: not measured ({o['error']})")
            continue
        verdict = "within" if o["within_bound"] else "OVER"
        lines.append(f"- Runner overhead of {runtime} ({o['artifact']}, batch {o['batch']}): predict() p50 "
                     f"{o['runner_p50_us']:.2f} us vs {o['raw_call']} {o['raw_p50_us']:.2f} us = "
                     f"{o['overhead_us']:+.2f} us, {verdict} the bound {o['bound_us']:.2f} us "
                     f"(median of {o['rounds']} interleaved rounds of {o['calls_per_round']} calls)")
    floor = cpu.get("memory_floor")
    if floor:
        lines.append(f"- Memory floor: bytes per call ({floor['bytes_per_call']}) over the read bandwidth at that "
                     f"size ({floor['read']}); each row names the nearer of the two floors and its distance")
    return lines


def recommendation_lines(report: dict) -> list[str]:
    lines = []
    for key, rec in report["recommendation"].items():
        if not rec["measured"]:
            lines.append(f"- {key}: not measured ({rec['reason']}); measure it with `{rec['how_to_measure']}`")
        elif rec["best"] is None:
            lines.append(f"- {key}: none ({rec['reason']})")
        else:
            best = rec["best"]
            unit = "aarch64 instructions per inference" if rec["metric"] == "instructions" else "us p50"
            lines.append(f"- {key}: **{best['artifact']}** via {best['runtime']}: {best['value']:,.1f} {unit}; "
                         f"{rec['why']}")
    return lines


def problem_lines(report: dict) -> list[str]:
    lines = [f"- {p}" for p in report["problems"] + report["warnings"]] or ["- none"]
    if "baseline" in report:
        base = report["baseline"]
        lines.append(f"\nCompared with {base['path']} ({base['date_utc']}), tolerance {base['tolerance']:.0%}:")
        lines += [f"- regression: {g['artifact']} via {g['runtime']} ({g['target']}, batch {g['batch']}, "
                  f"threads {g['threads']}): {g['kind']} {g['old']} -> {g['new']} ({g['detail']})"
                  for g in base["regressions"]] or ["- no regressions"]
    return lines


def markdown(report: dict) -> str:
    parts = ["# Latency and accuracy report", "", *summary_lines(report), "", "## Recommendation", "",
             *recommendation_lines(report), "", "## Problems", "", *problem_lines(report)]
    for title, header, cells in tables(report):
        parts += ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        parts += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]
    return "\n".join(parts) + "\n"


def figures(report: dict) -> list[tuple[str, str]]:
    """(caption, base64 PNG) of every plot the data allows."""
    rows = report["rows"]
    cpu_accuracy = {r["artifact"]: r["accuracy"] for r in rows if r["target"] == "cpu" and r["accuracy"] is not None}
    out = []
    for target in dict.fromkeys(r["target"] for r in rows):
        points = [(r["p50_us"], r["accuracy"] if r["accuracy"] is not None else cpu_accuracy.get(r["artifact"]),
                   f"{r['artifact']} ({r['runtime']})") for r in rows
                  if r["target"] == target and r["status"] == "ok" and r["batch"] == 1 and r["threads"] in (1, None)
                  and r["p50_us"] is not None]
        points = [p for p in points if p[1] is not None]
        if points:
            out.append((f"{target}: test accuracy against p50 latency at batch 1, 1 thread; red: the Pareto front"
                        + ("" if target in ("cpu", "cuda") else " (accuracy as measured on cpu)"),
                        plots.accuracy_vs_latency(target, points)))
    search = report.get("compression_search") or {}
    if search.get("summary") and search.get("artifacts"):
        out.append(("Compression search (export): validation accuracy of every build tried against its file size, "
                    "and of the pruning candidates against their strength",
                    plots.search_frontier(search["summary"], search["artifacts"])))
    sizes = {r["artifact"]: r["size_bytes"] for r in rows if r["size_bytes"]}
    if sizes:
        out.append(("File size per artifact", plots.file_sizes(sizes)))
    return out


def html(report: dict) -> str:
    esc = html_lib.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Latency and accuracy report</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,td:nth-child(2)"
             "{text-align:left}img{max-width:100%;display:block;margin:1em 0}</style></head><body>",
             "<h1>Latency and accuracy report</h1><ul>"]
    parts += [f"<li>{esc(line[2:])}</li>" for line in summary_lines(report)]
    parts += ["</ul><h2>Recommendation</h2><ul>"]
    parts += [f"<li>{esc(line[2:]).replace('**', '')}</li>" for line in recommendation_lines(report)]
    parts += ["</ul><h2>Problems</h2><ul>"]
    parts += [f"<li>{esc(line.strip().lstrip('- '))}</li>" for line in problem_lines(report)]
    parts += ["</ul><h2>Plots</h2>"]
    for caption, png in figures(report):
        parts.append(f"<figure><img alt='{esc(caption)}' src='data:image/png;base64,{png}'>"
                     f"<figcaption>{esc(caption)}</figcaption></figure>")
    for title, header, cells in tables(report):
        parts.append(f"<h2>{esc(title)}</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_all(report: dict) -> tuple[str, str, str]:
    """The report's three files' texts: JSON, Markdown, HTML."""
    return json.dumps(report, indent=2) + "\n", markdown(report), html(report)
