"""The one interface every report target implements, and what each is given and gives back.

A target is one module in runtime/targets/ defining `TARGET = Target(...)`, listed in
runtime/targets/__init__.py's TARGETS. runtime/run.py asks every target whether it can measure
here (`unavailable`), then calls `measure` on those that can; the report's recommendation per
target (and per device of a target) is computed from the rows in one place
(runtime/report/recommend.py), minimising the target's `metric`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import torch

from runtime import harness
from runtime.config import RuntimeConfig
from runtime.manifest import Manifest
from runtime.report.rows import Row


@dataclasses.dataclass(frozen=True)
class Reference:
    """The fp32 PyTorch model and the test set every artifact is judged against."""
    model: torch.nn.Module
    images: np.ndarray           # the full test set, float32 [N, 1, 28, 28], normalized
    labels: np.ndarray
    top1: np.ndarray             # the fp32 model's top-1 per image
    accuracy: float              # the fp32 model's test accuracy, 0..1
    data_sha256: dict[str, str]  # test files -> sha256, as the checkpoint recorded them


@dataclasses.dataclass
class Context:
    """What every target measures with; built once per report by runtime/run.py."""
    cfg: RuntimeConfig
    manifest: Manifest
    reference: Reference
    method: harness.Method
    threads: tuple[int, ...]     # thread counts to time, 0 already replaced by the core count
    # Facts one target leaves for a later one (TARGETS' order), e.g. the cpu target's x86 logits
    # by (runtime, artifact sha256) for the arm64 parity check.
    shared: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Measured:
    """What one target's `measure` returns."""
    rows: list[Row]
    device: dict[str, Any] | None = None   # what it ran on (CPU, phone, browser, emulator) and how
    # An interleaved comparison the recommendation ranks by before `metric` (the cpu target's
    # runtime/compare.py): {"candidates": [{"artifact", "runtime", "ratio", "ratio_ci95"}, ...],
    # "rounds": ..., ...}; None when the target has none.
    ranking: dict[str, Any] | None = None
    # Target-specific report blocks, written under report["targets"][name] (runner overheads,
    # floors, ...): the report's schema (docs/report.md) names each.
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Target:
    name: str                                        # the report's key: cpu, cuda, arm64, android, browser-wasm
    title: str                                       # its card's heading
    metric: str                                      # the Row field its recommendation minimises
    metric_label: str                                # how the card names that figure
    baseline: str | None                             # runtime of the speed-up baseline rows; never recommended
    how_to_measure: str                              # the one command that measures it (for a card that was not)
    unavailable: Callable[[Context], str | None]     # why it cannot be measured here, None when it can;
    #                                                  raises UserError for a broken input (before any measuring)
    measure: Callable[[Context], Measured]


def not_measured(target: Target, reason: str) -> Measured:
    """The one row of a target this machine cannot measure: its reason and the command that would."""
    return Measured(rows=[Row(target=target.name, status="not measured", reason=reason)])
