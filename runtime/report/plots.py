"""The report's figures as inline SVG (matplotlib's Agg-free SVG backend: no display, text stays
text and sharp at any zoom, a phone's included): accuracy against each target's metric with its
Pareto front labelled, the compression search's size-accuracy frontier, instructions per artifact."""
from __future__ import annotations

import base64
import dataclasses
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

# Text as text (the page's font, searchable, small); fixed ids and no date, so the same report
# renders to the same bytes.
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "latency-report", "font.size": 9,
                            "axes.spines.top": False, "axes.spines.right": False})
FORMAT_COLORS = {"pytorch": "#7f7f7f", "torchscript": "#4c78a8", "torchscript-lite": "#72b7b2", "onnx": "#f58518",
                 "executorch": "#54a24b"}
QUANT_MARKERS = {"none": "o", "int8-dynamic": "s", "int8-static": "^"}
LABEL_GAP = 0.075  # minimum distance between two labels of the right-hand column, in axes fractions
MIN_POINTS = 4     # a target with fewer batch-1 points is left to its card and the table


@dataclasses.dataclass(frozen=True)
class Plot:
    title: str
    caption: str
    uri: str      # data:image/svg+xml;base64,...


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    accuracy: float  # 0..1
    label: str
    format: str
    quantization: str
    recommended: bool = False
    baseline: bool = False


def to_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pareto_front(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """(cost, accuracy, label) points that no other point beats on both: cheaper and at least as accurate."""
    front, best_acc = [], float("-inf")
    for p in sorted(points, key=lambda p: (p[0], -p[1])):
        if p[1] > best_acc:
            front.append(p)
            best_acc = p[1]
    return front


def spread(wanted: list[float], gap: float) -> list[float]:
    """Positions in 0..1 as near `wanted` (ascending) as a minimum `gap` between neighbours allows."""
    if not wanted:
        return []
    gap = min(gap, 1.0 / max(len(wanted) - 1, 1))
    out = [max(0.0, wanted[0])]
    for w in wanted[1:]:
        out.append(max(w, out[-1] + gap))
    over = out[-1] - 1.0
    if over > 0:  # pushed past the top: shift down, keeping the gaps, and re-clamp from the top
        out[-1] = 1.0
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return out


def plain_log_axis(ax, values: list[float], base: int = 10) -> None:
    """A log x axis whose ticks read as plain numbers (10, 100, 1000; or 64, 128, 256 KiB for base 2)."""
    ax.set_xscale("log", base=base)
    if base == 2:
        low, high = min(values), max(values)
        ax.set_xticks([2.0 ** k for k in range(0, 40) if low / 2 <= 2.0 ** k <= high * 2])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))


def label_column(ax, points: list[tuple[float, float, str]]) -> None:
    """Label points in a column right of the axes, one line each, joined to their point: labels
    never overlap each other or the data, however close the points are."""
    if not points:
        return
    ax.get_xlim(), ax.get_ylim()  # settles the autoscaled limits the transform below depends on
    to_axes = ax.transData + ax.transAxes.inverted()
    placed = sorted(((to_axes.transform((x, y))[1], x, y, label) for x, y, label in points))
    for ty, (_, x, y, label) in zip(spread([p[0] for p in placed], LABEL_GAP), placed):
        ax.annotate(label, xy=(x, y), xycoords="data", xytext=(1.03, ty), textcoords="axes fraction",
                    va="center", fontsize=8, annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.6, "shrinkA": 2, "shrinkB": 3})


def scatter_by_kind(ax, points: list[Point]) -> None:
    """Colour by format, marker by quantization, the recommended one starred, the baseline grey."""
    for p in points:
        ax.scatter(p.x, p.accuracy * 100, s=36, marker="X" if p.baseline else QUANT_MARKERS.get(p.quantization, "o"),
                   color=FORMAT_COLORS.get(p.format, "#333333"), alpha=0.85, zorder=3, linewidths=0)
        if p.recommended:
            ax.scatter(p.x, p.accuracy * 100, s=220, marker="*", facecolors="none", edgecolors="#d62728",
                       linewidths=1.2, zorder=4)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=f) for f, c in FORMAT_COLORS.items()
               if any(p.format == f for p in points)]
    handles += [plt.Line2D([], [], ls="", marker=m, color="#555555", mfc="none", label=q)
                for q, m in QUANT_MARKERS.items() if any(p.quantization == q for p in points)]
    handles.append(plt.Line2D([], [], ls="", marker="*", ms=12, mfc="none", mec="#d62728", label="recommended"))
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(handles),
              frameon=False, handletextpad=0.2, columnspacing=1.0)


def accuracy_vs_cost(points: list[Point], xlabel: str, budget_line: float | None) -> str:
    fig, ax = plt.subplots(figsize=(10, 4.6))
    fig.subplots_adjust(right=0.58)
    scatter_by_kind(ax, points)
    front = pareto_front([(p.x, p.accuracy, p.label) for p in points if not p.baseline])
    ax.plot([p[0] for p in front], [p[1] * 100 for p in front], color="#d62728", lw=1, zorder=2, alpha=0.7,
            marker="o", ms=9, mfc="none", mec="#d62728")
    if budget_line is not None:
        ax.axhline(budget_line * 100, color="#e45756", ls=":", lw=1)
        ax.annotate("accuracy budget", (0, budget_line * 100), xycoords=("axes fraction", "data"), fontsize=7,
                    color="#e45756", va="bottom", xytext=(3, 1), textcoords="offset points")
    plain_log_axis(ax, [p.x for p in points])
    label_column(ax, [(x, acc * 100, label) for x, acc, label in front])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, alpha=0.25, which="both")
    return to_uri(fig)


def target_points(report: dict, target: str, device: str | None, metric: str) -> list[Point]:
    exported = {a["name"]: a["test_accuracy"] for a in report["artifacts"]}
    best = {(rec["best"]["artifact"], rec["best"]["runtime"]) for rec in report["recommendation"].values()
            if rec.get("best") and rec["target"] == target and rec.get("device") == device}
    out = []
    for r in report["rows"]:
        accuracy = r["accuracy"] if r["accuracy"] is not None else exported.get(r["artifact"])
        if (r["target"] == target and r["device"] == device and r["status"] == "ok" and r["batch"] == 1
                and r["threads"] in (1, None) and r.get(metric) and accuracy is not None):
            out.append(Point(r[metric], accuracy, f"{r['artifact']} · {r['runtime']}", r["format"] or "",
                             r["quantization"] or "none", (r["artifact"], r["runtime"]) in best,
                             r["artifact"] == "checkpoint"))
    return out


def search_frontier(summary: dict, artifacts: dict[str, dict]) -> str:
    """Every artifact build the export's search judged on validation: accuracy against file size,
    the chosen builds filled, the frontier within the budget labelled."""
    reference = summary["validation"]["fp32_accuracy"]
    floor = reference - (summary["budget_pp"] - (summary["margin_pp"] or 0)) / 100
    fig, ax = plt.subplots(figsize=(10, 4.6))
    fig.subplots_adjust(right=0.58)
    builds = [(c["size_bytes"] / 1024, c["val_accuracy"] * 100, name, c["setting"] == a["search"].get("chosen"))
              for name, a in artifacts.items() for c in (a["search"] or {}).get("candidates", [])
              if c.get("evaluated") == "artifact" and c["size_bytes"]]
    ax.scatter([b[0] for b in builds if not b[3]], [b[1] for b in builds if not b[3]], facecolors="none",
               edgecolors="#999999", s=28, label="build tried, not kept")
    ax.scatter([b[0] for b in builds if b[3]], [b[1] for b in builds if b[3]], color="#4c78a8", s=28,
               label="build kept (an artifact)")
    front = [p for p in pareto_front([(b[0], b[1], b[2]) for b in builds if b[3]]) if p[1] >= floor * 100 - 1e-9]
    ax.plot([p[0] for p in front], [p[1] for p in front], color="#d62728", lw=1, marker="o", ms=9, mfc="none",
            label="smallest for its accuracy")
    allowed = (reference - floor) * 100
    ax.axhline(floor * 100, color="#e45756", ls=":", lw=1,
               label=f"lowest allowed: fp32 {reference * 100:.2f}% - {allowed:.2f} pp (budget less its margin)")
    plain_log_axis(ax, [b[0] for b in builds], base=2)
    label_column(ax, front)
    ax.set_xlabel("file size (KiB, log scale)")
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(True, alpha=0.25, which="both")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, frameon=False)
    return to_uri(fig)


def instruction_bars(rows: list[dict], recommended: set[str]) -> str:
    rows = sorted(rows, key=lambda r: r["instructions"])
    fig, ax = plt.subplots(figsize=(10, 0.2 * len(rows) + 0.9))
    names = [r["artifact"] + (" ★" if r["artifact"] in recommended else "") for r in rows]
    ax.barh(names, [r["instructions"] / 1e6 for r in rows], height=0.65,
            color=[FORMAT_COLORS.get(r["format"], "#333333") for r in rows])
    for i, r in enumerate(rows):
        ax.annotate(f"{r['instructions'] / 1e6:.2f} M", (r["instructions"] / 1e6, i), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("aarch64 instructions per inference at batch 1, millions (★ recommended)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(True, axis="x", alpha=0.25)
    ax.margins(x=0.12)
    return to_uri(fig)


def figures(report: dict) -> list[Plot]:
    """Every plot the report's data allows, per card key for the per-target ones."""
    out = []
    budget = report["reference"]["accuracy"] - report["manifest"]["accuracy_budget_pp"] / 100
    for key, rec in report["recommendation"].items():
        block = report["targets"][rec["target"]]
        if not rec["measured"]:
            continue
        points = target_points(report, rec["target"], rec.get("device"), block["metric"])
        if len(points) < MIN_POINTS:
            continue
        unit = "" if block["metric"] == "instructions" else "µs, "  # the label names a count's unit itself
        out.append(Plot(f"{key}: accuracy against {block['metric_label']}",
                        "Each artifact × runtime at batch 1; the red line is the Pareto front (nothing is both "
                        "cheaper and more accurate), each of its points labelled on the right.",
                        accuracy_vs_cost(points, f"{block['metric_label']} ({unit}log scale)", budget)))
        if block["metric"] == "instructions":
            rows = [r for r in report["rows"] if r["target"] == rec["target"] and r["status"] == "ok"
                    and r["batch"] == 1 and r["instructions"]]
            out.append(Plot(f"{key}: instructions per artifact", "A count that the machine's load cannot move, not "
                            "a latency (emulated time is never reported).",
                            instruction_bars(rows, {rec["best"]["artifact"]} if rec.get("best") else set())))
    search = report.get("compression_search") or {}
    if search.get("summary") and search.get("artifacts"):
        out.append(Plot("Compression search: file size against validation accuracy",
                        "Every build the export's search ran through its own runtime on the validation split.",
                        search_frontier(search["summary"], search["artifacts"])))
    return out
