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


def search_frontier(search: dict, artifacts: dict[str, dict]) -> str:
    """The compression search (manifest `search` objects): left, every artifact build tried, validation
    accuracy against file size, chosen ones filled, with the budget line and the size-accuracy front;
    right, the pruning search's fine-tuned candidates, validation accuracy against pruning strength."""
    reference, allowed = search["validation"]["fp32_accuracy"], search["budget_pp"] - (search["margin_pp"] or 0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    builds = [(c["size_bytes"], c["val_accuracy"], c["setting"] == (a["search"] or {}).get("chosen"))
              for a in artifacts.values() for c in (a["search"] or {}).get("candidates", [])
              if c.get("evaluated") == "artifact" and c["size_bytes"]]
    tried = [b for b in builds if not b[2]]
    chosen = [b for b in builds if b[2]]
    left.scatter([b[0] / 1024 for b in tried], [b[1] * 100 for b in tried], facecolors="none",
                 edgecolors="tab:gray", label="build tried, not kept")
    left.scatter([b[0] / 1024 for b in chosen], [b[1] * 100 for b in chosen], color="tab:blue", label="chosen build")
    front = [p for p in pareto_front([(size, acc, "") for size, acc, _ in builds])  # smaller, at least as accurate
             if p[1] >= reference - allowed / 100 - 1e-12]
    left.plot([p[0] / 1024 for p in front], [p[1] * 100 for p in front], color="tab:red", marker=".",
              label="frontier within the budget: smaller or more accurate")
    left.set_xscale("log")
    left.set_xticks([64, 128, 256, 512, 1024, 2048], ["64", "128", "256", "512", "1024", "2048"])
    left.minorticks_off()
    left.set_xlabel("artifact file size (KiB, log scale)")
    left.set_title("artifact builds judged on validation")
    for kind, candidates in search["pruning"].items():
        strength = [c["setting"].get("structured_ratio", c["setting"].get("sparsity")) for c in candidates]
        right.scatter([s * 100 for s in strength], [c["val_accuracy"] * 100 for c in candidates], label=kind)
    right.set_xlabel("pruned (% of channels and hidden units for structured, of weights for unstructured)")
    right.set_title("pruning search: fine-tuned PyTorch candidates")
    for ax in (left, right):
        ax.axhline((reference - allowed / 100) * 100, color="tab:orange", linestyle="--",
                   label=f"fp32 val {reference * 100:.2f}% - {allowed:.2f} pp allowed")
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return to_png_base64(fig)
