"""The report's figures, as inline base64 PNGs (matplotlib's Agg backend: no display needed)."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def to_png_base64(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def pareto_front(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """(p50, accuracy, label) points that no other point beats on both: faster and at least as accurate."""
    front, best_acc = [], float("-inf")
    for p in sorted(points, key=lambda p: (p[0], -p[1])):
        if p[1] > best_acc:
            front.append(p)
            best_acc = p[1]
    return front


def accuracy_vs_latency(target: str, points: list[tuple[float, float, str]]) -> str:
    fig, ax = plt.subplots(figsize=(9, 5.5))
    ax.scatter([p[0] for p in points], [p[1] * 100 for p in points], color="tab:blue", alpha=0.6, zorder=2,
               label="other artifact x runtime rows (all listed in the tables)")
    front = pareto_front(points)
    # Only the front is labelled: with ~50 points, labelling all of them made the plot unreadable.
    for p50, acc, label in front:
        ax.annotate(label, (p50, acc * 100), fontsize=7, xytext=(5, -10), textcoords="offset points")
    ax.plot([p[0] for p in front], [p[1] * 100 for p in front], color="tab:red", marker="o",
            label="Pareto front (faster or more accurate than every other point)", zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency at batch 1, 1 thread (us, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{target}: accuracy vs latency")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return to_png_base64(fig)


def file_sizes(sizes: dict[str, int]) -> str:
    names = sorted(sizes, key=sizes.get)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.2))
    ax.barh(names, [sizes[n] / 1024 for n in names], color="tab:green")
    ax.set_xlabel("file size (KiB)")
    ax.set_title("artifact file size")
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)
    return to_png_base64(fig)


def latency_distributions(samples: dict[str, list[float]], title: str) -> str:
    """Box plots of per-call latency (whiskers at p1 and p99; points beyond are not drawn)."""
    names = sorted(samples, key=lambda n: sorted(samples[n])[len(samples[n]) // 2], reverse=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.2))
    ax.boxplot([samples[n] for n in names], orientation="horizontal", whis=(1, 99), showfliers=False)
    ax.set_yticks(range(1, len(names) + 1), names, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("latency per call (us, log scale); box: p25-p75, line: p50, whiskers: p1-p99")
    ax.set_title(title)
    ax.grid(True, axis="x", alpha=0.3)
    return to_png_base64(fig)
