"""The artifact table: one row per artifact (and one for the torch-eager baseline), the columns a
person compares, and each artifact's full figures to fold out under its row.

The per-target columns come from report["targets"] and the rows, so a new target (one module in
runtime/targets/) gets its columns without a change here: its metric at batch 1 per device
(p50, or instructions), and its throughput at the largest batch where it timed one.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import Callable

from runtime.report import details
from runtime.report.view import metric_text, percent, pp, size, times


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = True
    help: str = ""                 # the header's tooltip: what the figure is


@dataclasses.dataclass(frozen=True)
class Cell:
    text: str = "–"
    sort: float | str | None = None  # what the header click sorts by; None sorts last
    sub: tuple[str, ...] = ()        # smaller lines under the text: the other runtimes, % of fp32
    bad: bool = False


@dataclasses.dataclass(frozen=True)
class TableRow:
    name: str
    baseline: bool                  # the fp32 PyTorch checkpoint through torch-eager, not an artifact
    status: str                     # the manifest's status, or failed / stale from this report's rows
    reason: str | None
    facets: dict[str, str]          # format, quantization, pruning, status: what the filters match
    recommended: tuple[str, ...]    # the cards (targets, devices) that recommend it
    cells: dict[str, Cell]
    details: details.ArtifactDetails


@dataclasses.dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[TableRow, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]   # (facet, its values)
    notes: tuple[str, ...]


FIXED = (Column("artifact", "artifact", numeric=False),
         Column("format", "format", numeric=False, help="export format; below it, the backend"),
         Column("variant", "quantization / pruning", numeric=False),
         Column("size", "size", help="file size; below it, % of the fp32 file of its format"),
         Column("accuracy", "accuracy", help="top-1 on the full test set through its own runtime"),
         Column("delta", "Δ pp", help="accuracy minus the fp32 PyTorch model's, percentage points; red: over "
                                       "the budget"),
         Column("agreement", "agree", help="share of test images whose top-1 equals the fp32 PyTorch model's"))
FACETS = ("format", "quantization", "pruning", "status")
CellMaker = Callable[[str], Cell]  # artifact name -> its cell in one column


def batch_1(r: dict) -> bool:
    return r["status"] == "ok" and r["batch"] == 1 and r["threads"] in (1, None)


def target_columns(report: dict) -> list[tuple[Column, CellMaker]]:
    """(column, cell maker) per measured target and device (`device_columns`), in the report's order."""
    out = []
    for name, block in report["targets"].items():
        rows = [r for r in report["rows"] if r["target"] == name and r["artifact"] and r["status"] in ("ok", "stale")]
        devices = list(dict.fromkeys(r["device"] for r in rows))
        for device in devices:
            where = name if len(devices) == 1 else f"{name} {device}"
            out += device_columns(block, where, [r for r in rows if r["device"] == device])
    return out


def device_columns(block: dict, where: str, rows: list[dict]) -> list[tuple[Column, CellMaker]]:
    """One target's (and device's) columns: its metric at batch 1, the speed-up over its baseline
    where it has one, and throughput at the largest batch it timed."""
    metric = block["metric"]
    several = len({r["runtime"] for r in rows if r["artifact"] != "checkpoint"}) > 1  # name the runtime
    label = f"{where} instructions" if metric == "instructions" else f"{where} p50"
    out = [(Column(f"{where}:{metric}", label, help=f"{block['metric_label']}: the fastest runtime, the others "
                                                    "below it"), partial(metric_cell, rows, metric, several))]
    if block.get("baseline"):
        out.append((Column(f"{where}:speedup", f"{where} speed-up", help=f"{block['baseline']} p50 / this p50, "
                                                                          "same batch and threads, fastest runtime"),
                    partial(speedup_cell, rows)))
    largest = max((r["batch"] for r in rows if r["batch"] and r["throughput"]), default=1)
    if largest > 1:
        out.append((Column(f"{where}:throughput", f"{where} img/s @{largest}",
                           help=f"images per second at batch {largest}, its best thread count"),
                    partial(throughput_cell, rows, largest, several)))
    return out


def fastest(rows: list[dict], artifact: str, metric: str) -> list[dict]:
    """An artifact's batch-1 rows on one target and device, fastest (lowest metric) first."""
    return sorted((r for r in rows if r["artifact"] == artifact and batch_1(r) and r[metric] is not None),
                  key=lambda r: r[metric])


def metric_cell(rows: list[dict], metric: str, several: bool, artifact: str) -> Cell:
    """The artifact's batch-1 figure on one target: the best runtime's big, every other one below
    (the runtime named where the target has `several`)."""
    mine = fastest(rows, artifact, metric)
    if not mine:
        stale = next((r for r in rows if r["artifact"] == artifact and r["status"] == "stale"), None)
        return Cell("stale", sub=(stale["runtime"],)) if stale else Cell()
    best = mine[0]
    sub = ((best["runtime"],) if several else ()) + tuple(f"{metric_text(metric, r[metric])} {r['runtime']}"
                                                         for r in mine[1:])
    return Cell(metric_text(metric, best[metric]), best[metric], sub)


def speedup_cell(rows: list[dict], artifact: str) -> Cell:
    mine = fastest(rows, artifact, "p50_us")
    if not mine or not mine[0]["ratio_to_eager"]:
        return Cell()
    speedup = 1 / mine[0]["ratio_to_eager"]
    return Cell(times(speedup), speedup)


def throughput_cell(rows: list[dict], batch: int, several: bool, artifact: str) -> Cell:
    mine = sorted((r for r in rows if r["artifact"] == artifact and r["status"] == "ok" and r["batch"] == batch
                   and r["throughput"]), key=lambda r: -r["throughput"])
    if not mine:
        return Cell()
    best = mine[0]
    return Cell(f"{best['throughput']:,.0f}", best["throughput"], (best["runtime"],) if several else ())


def accuracy_row(report: dict, name: str) -> dict | None:
    """The report's own accuracy of an artifact on the full test set (the first target's that has one)."""
    full = report["reference"]["test_count"]
    return next((r for r in report["rows"] if r["artifact"] == name and r["accuracy"] is not None
                 and r["accuracy_images"] in (None, full)), None)


def fp32_sizes(report: dict) -> dict[tuple[str, str], tuple[str, int]]:
    return {(a["format"], a["backend"]): (a["name"], a["size_bytes"]) for a in report["artifacts"]
            if a["quantization"] == "none" and a["pruning"] == "none" and a["status"] == "ok" and a["size_bytes"]}


def status_of(report: dict, artifact: dict) -> tuple[str, str | None]:
    """The manifest's status, unless this report's rows found the artifact failed or stale."""
    if artifact["status"] != "ok":
        return artifact["status"], artifact["reason"]
    for status in ("failed", "stale"):
        row = next((r for r in report["rows"] if r["artifact"] == artifact["name"] and r["status"] == status), None)
        if row:
            return status, f"{row['target']}: {row['reason']}"
    return "ok", None


def fixed_cells(report: dict, a: dict) -> dict[str, Cell]:
    ref, budget = report["reference"]["accuracy"], report["manifest"]["accuracy_budget_pp"]
    measured = accuracy_row(report, a["name"])
    accuracy = measured["accuracy"] if measured else a.get("test_accuracy")
    agreement = measured["top1_agreement"] if measured else None
    fp32 = fp32_sizes(report).get((a["format"], a["backend"]))
    share = a["size_bytes"] / fp32[1] if fp32 and a["size_bytes"] else None
    delta = None if accuracy is None else (accuracy - ref) * 100
    cells = {"variant": Cell(a["quantization"], f"{a['quantization']} {a['pruning']}", (a["pruning"],))}
    cells.update(
        artifact=Cell(a["name"], a["name"]), format=Cell(a["format"], a["format"], (a["backend"],)),
        size=Cell(size(a["size_bytes"]), a["size_bytes"], (f"{percent(share, 0 if share >= 0.1 else 1)} of fp32",)
                  if share else ()),
        accuracy=Cell(percent(accuracy), accuracy, () if measured or accuracy is None else ("export's",)),
        delta=Cell("–" if delta is None else pp(delta), delta, bad=delta is not None and -delta > budget + 1e-9),
        agreement=Cell(percent(agreement), agreement))
    return cells


def artifact_row(report: dict, a: dict, columns: list[tuple[Column, CellMaker]]) -> TableRow:
    status, reason = status_of(report, a)
    cells = fixed_cells(report, a)
    cells.update({col.key: make(a["name"]) for col, make in columns})
    cells["status"] = Cell(status, status, bad=status in ("failed", "rejected"))
    recommended = tuple(key for key, rec in report["recommendation"].items()
                        if rec.get("best") and rec["best"]["artifact"] == a["name"])
    facets = {"format": a["format"], "quantization": a["quantization"], "pruning": a["pruning"], "status": status}
    return TableRow(a["name"], False, status, reason, facets, recommended, cells,
                    details.artifact_details(report, a))


def baseline_rows(report: dict, columns: list[tuple[Column, CellMaker]]) -> list[TableRow]:
    """The fp32 checkpoint through each target's baseline runtime (torch-eager): the yardstick row."""
    rows = [r for r in report["rows"] if r["artifact"] == "checkpoint"]
    if not rows:
        return []
    first = {**rows[0], "format": rows[0]["format"] or "pytorch", "backend": rows[0]["backend"] or "cpu"}
    a = {"name": "checkpoint", "format": first["format"], "backend": first["backend"], "quantization": "none",
         "pruning": "none", "size_bytes": None, "status": "ok", "reason": None, "test_accuracy": None}
    cells = fixed_cells(report, a)
    cells.update({col.key: make("checkpoint") for col, make in columns})
    cells["status"] = Cell("baseline", "baseline")
    facets = {"format": first["format"], "quantization": "none", "pruning": "none", "status": "baseline"}
    return [TableRow("checkpoint", True, "baseline", None, facets, (), cells, details.artifact_details(report, a))]


def artifact_table(report: dict) -> Table:
    columns = target_columns(report)
    rows = baseline_rows(report, columns) + [artifact_row(report, a, columns) for a in report["artifacts"]]
    filters = tuple((f, tuple(sorted({r.facets[f] for r in rows}))) for f in FACETS)
    unmeasured = [name for name, block in report["targets"].items() if not block["measured"]]
    notes = ((f"Not measured here: {', '.join(unmeasured)} (each card says why and how).",) if unmeasured else ())
    return Table(FIXED + tuple(col for col, _ in columns) + (Column("status", "status", numeric=False),),
                 tuple(rows), filters, notes + details.default_run_notes(report))
