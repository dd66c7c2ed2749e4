"""What folds out: each artifact's full figures (every row of every target), and the method,
environment, runner overheads and floors at the end of the page."""
from __future__ import annotations

import dataclasses
import json

from runtime.report.view import NOT_IN_DEFAULT, count, is_default_run, percent, size, us

# (header, row key, format) of an artifact's figures; a column is shown where any row has a value.
FIGURES = (
    ("runtime", "runtime", str), ("batch", "batch", str), ("threads", "threads", str), ("status", "status", str),
    ("p50", "p50_us", us), ("p90", "p90_us", us), ("p99", "p99_us", us), ("mean", "mean_us", us),
    ("trimmed mean", "trimmed_mean_us", us), ("CV", "cv", "{:.2f}".format), ("img/s", "throughput", "{:,.0f}".format),
    ("× eager", "ratio_to_eager", "{:.3f}".format), ("load", "load_ms", "{:.1f} ms".format),
    ("first call", "first_ms", "{:.2f} ms".format), ("peak RSS", "peak_rss_mb", "{:.0f} MB".format),
    ("memory floor", "memory_floor_us", us), ("nearer floor", "nearer_floor", str),
    ("over floor", "over_floor_us", "{:+.1f} µs".format), ("instructions", "instructions", count),
    ("max |Δ| vs x86", "max_abs_diff_x86", "{:.2g}".format), ("accuracy", "accuracy", percent),
    ("agree", "top1_agreement", percent), ("images", "accuracy_images", "{:,}".format),
    ("accuracy from", "accuracy_source", str),
)
# Figures only the full matrix measures (`python -m runtime --full`): named when a default report lacks them.
FULL_ONLY = {"peak_rss_mb": "peak RSS", "memory_floor_us": "memory and compute floors"}


@dataclasses.dataclass(frozen=True)
class DetailTable:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ArtifactDetails:
    facts: tuple[tuple[str, str], ...]
    tables: tuple[DetailTable, ...]


def figures_table(report: dict, title: str, rows: list[dict]) -> DetailTable:
    """One target's (and device's) rows of one artifact, every figure that any of them has."""
    shown = [(h, k, f) for h, k, f in FIGURES if any(r.get(k) is not None for r in rows)]
    cells = tuple(tuple("–" if r.get(k) is None else f(r[k]) for _, k, f in shown)
                  + ("; ".join(([r["reason"]] if r["reason"] else []) + r["flags"]),) for r in rows)
    missing = [what for key, what in FULL_ONLY.items() if all(r.get(key) is None for r in rows)]
    note = ""
    if is_default_run(report) and missing and any(r["status"] == "ok" for r in rows):
        note = f"{', '.join(missing)}: {NOT_IN_DEFAULT}"
    return DetailTable(title, tuple(h for h, _, _ in shown) + ("notes",), cells, note)


def setting_text(chosen: dict) -> str:
    """The compression search's chosen setting (manifest `search.chosen`) in words."""
    parts = []
    if chosen.get("pruning") == "structured":
        kept = chosen.get("kept_channels") or {"hidden units": chosen.get("hidden_units")}  # an MLP-only manifest
        widths = ", ".join(f"{layer} {n}" for layer, n in kept.items())
        parts.append(f"kept {widths} ({chosen['structured_ratio']:.0%} of channels and units removed)")
    elif chosen.get("pruning") == "unstructured":
        parts.append(f"{chosen['sparsity']:.1%} of the weights zero")
    if str(chosen.get("quantization", "none")).startswith("int8"):
        parts.append(f"{chosen['quantization']}, {'per-channel' if chosen.get('per_channel') else 'per-tensor'} "
                     f"weights, calibration {chosen.get('calibration')}")
        if chosen.get("fp32_layers"):
            parts.append(f"{', '.join(chosen['fp32_layers'])} left in fp32")
        if chosen.get("qat_epochs"):
            parts.append(f"{chosen['qat_epochs']} quantization-aware epochs")
    return "; ".join(parts) or "none"


def artifact_facts(report: dict, a: dict) -> tuple[tuple[str, str], ...]:
    facts = [("status", a["status"] + (f": {a['reason']}" if a.get("reason") else ""))]
    if a.get("size_bytes"):
        facts.append(("file size", f"{a['size_bytes']:,} B ({size(a['size_bytes'])})"))
    if a.get("test_accuracy") is not None:
        facts.append(("export's test accuracy", percent(a["test_accuracy"])))
    if a.get("parity"):
        facts.append(("parity with its PyTorch source", f"max |Δ logit| {a['parity']['max_abs_diff']:.2g}, top-1 "
                                                         f"agreement {percent(a['parity']['top1_agreement'])}"))
    search = (report.get("compression_search", {}).get("artifacts", {}).get(a["name"]) or {}).get("search") or {}
    if search.get("chosen"):
        tried = sum(c.get("evaluated") == "artifact" for c in search.get("candidates", []))
        facts.append(("compression search", f"{setting_text(search['chosen'])} ({tried} build(s) tried)"))
    return tuple(facts)


def artifact_details(report: dict, a: dict) -> ArtifactDetails:
    tables = []
    for target in report["targets"]:
        mine = [r for r in report["rows"] if r["target"] == target and r["artifact"] == a["name"]]
        for device in dict.fromkeys(r["device"] for r in mine):
            rows = sorted((r for r in mine if r["device"] == device),
                          key=lambda r: (r["runtime"] or "", r["threads"] or 0, r["batch"] or 0))
            tables.append(figures_table(report, target + (f" · {device}" if device else ""), rows))
    return ArtifactDetails(artifact_facts(report, a), tuple(tables))


def default_run_notes(report: dict) -> tuple[str, ...]:
    if not is_default_run(report):
        return ()
    return (f"Every batch size × thread count, p90/p99 at each, peak RSS and the floors: {NOT_IN_DEFAULT}.",)


@dataclasses.dataclass(frozen=True)
class Section:
    title: str
    facts: tuple[tuple[str, str], ...] = ()
    tables: tuple[DetailTable, ...] = ()


def text(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def left_out_text(left_out: dict[str, list[str]]) -> str:
    """method.left_out (what --full adds, per target) in words; "nothing" for a full report."""
    return "; ".join(f"{target}: {', '.join(phrases)}" for target, phrases in left_out.items()) or "nothing"


def method_sections(report: dict) -> list[Section]:
    env, method = report["environment"], report["method"]
    overhead = env["harness_overhead"]
    out = [Section("Environment", tuple((k, text(env[k])) for k in ("cpu_model", "cores", "platform", "date_utc",
                                                                    "git_commit", "load_average_1m_5m"))
                   + tuple((name, version) for name, version in env["versions"].items())
                   + (("harness overhead", f"p50 {overhead['p50_us']:.2f} µs: the timing loop around an empty "
                                           f"predict(), {overhead['calls']} calls"),)),
           Section("Method", tuple((k.replace("_", " "), left_out_text(v) if k == "left_out" else text(v))
                                   for k, v in method.items()))]
    for name, block in report["targets"].items():
        out.append(target_section(name, block))
    search = (report.get("compression_search") or {}).get("summary")
    if search:
        out.append(Section("Compression search (export)", tuple(
            (k.replace("_", " "), text(v)) for k, v in search.items() if k != "pruning")))
    out.append(Section("Config", tuple((k, text(v)) for k, v in report["config"].items())))
    return out


def target_section(name: str, block: dict) -> Section:
    """A target's device, how it was measured and its extras (runner overheads, floors, ...)."""
    facts = [("measured", "yes" if block["measured"] else f"no: {block['reason']}"),
             ("how to measure", block["how_to_measure"]), ("recommendation minimises", block["metric_label"])]
    if block.get("baseline"):
        facts.append(("baseline", block["baseline"]))
    for k, v in (block.get("device") or {}).items():
        facts.append((k.replace("_", " "), text(v)))
    tables = []
    known = {"title", "metric", "metric_label", "baseline", "measured", "reason", "how_to_measure", "device"}
    for key, value in block.items():
        if key in known or value is None:
            continue
        if key == "runner_overhead":
            tables.append(overhead_table(value))
        elif key == "interleaved_ratio":
            tables.append(ratio_table(value))
        elif key == "compute_floor":
            tables.append(compute_floor_table(value))
        elif key == "memory_floor":
            gbps = list(value.get("read_gbps", {}).values())
            facts.append(("memory floor", f"{value['bytes_per_call']} over the read bandwidth ({value['read']}: "
                                          f"{min(gbps, default=0):.0f}-{max(gbps, default=0):.0f} GB/s here)"))
        else:
            facts.append((key.replace("_", " "), text(value)))
    return Section(f"Target {name}: {block['title']}", tuple(facts), tuple(tables))


def overhead_table(overheads: dict) -> DetailTable:
    rows = []
    for runtime, o in overheads.items():
        if "error" in o:
            rows.append((runtime, "–", "–", "–", "–", "–", f"not measured: {o['error']}"))
            continue
        low, high = o["overhead_ci95"]
        rows.append((runtime, o["artifact"], f"{o['raw_call']}: {o['raw_p50_us']:.2f} µs",
                     f"{o['runner_p50_us']:.2f} µs", f"{o['overhead_us']:+.2f} µs ({low:+.2f} to {high:+.2f})",
                     f"{o['bound_us']:.2f} µs", "within" if o["within_bound"] else "OVER"))
    return DetailTable("Runner overhead: each runner's predict() against its runtime's own call, batch 1, "
                       "median of interleaved rounds", ("runtime", "artifact", "runtime's own call p50",
                                                        "runner p50", "overhead (95%)", "bound", "verdict"),
                       tuple(rows))


def ratio_table(comparison: dict) -> DetailTable:
    rows = tuple((c["artifact"], c["runtime"], f"{c['ratio']:.3f}×",
                  f"{c['ratio_ci95'][0]:.3f}-{c['ratio_ci95'][1]:.3f}", us(c.get("p50_us")),
                  us(c.get("baseline_p50_us"))) for c in comparison.get("candidates", []))
    return DetailTable(f"Interleaved ratio to {comparison['baseline']}: {comparison['rounds']} alternating rounds "
                       f"of {comparison['calls_per_round']} calls, batch {comparison['batch']}, "
                       f"{comparison['threads']} thread(s); {comparison['statistic']}",
                       ("artifact", "runtime", "median ratio", "95% interval", "p50", "baseline p50"), rows)


def compute_floor_table(floor: dict) -> DetailTable:
    rows = tuple((threads, f"{floor['peak_gflops'][threads]} GFLOP/s",
                  ", ".join(f"{us(v)} at batch {b}" for b, v in per_batch.items()))
                 for threads, per_batch in floor["floor_us"].items())
    return DetailTable(f"Compute floor: {floor['flops_per_sample']:,} FLOP per image over the peak rate of "
                       f"{floor['matmul']}", ("threads", "peak rate", "floor"), rows)
