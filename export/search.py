"""Compression under an accuracy budget: the strongest pruning and int8 recipe that keep accuracy,
judged on the validation split only (the 5k training images the checkpoint held out; the test
set is used once, by the final verification of what was chosen).

Pruning: per kind, a bisection over the log of what is kept (each conv's channels and each hidden
layer's units for structured, weights for unstructured); each candidate is pruned and fine-tuned (export.prune) and passes when its
validation accuracy is within `budget - margin` of the fp32 model's. The passing candidates,
strongest first, are the settings an artifact may use.

Artifacts: each int8 or pruned variant tries (setting, recipe) pairs, strongest setting first and
the format's plain int8 recipe first (then what its library offers: per-channel/per-tensor,
calibration methods, one layer left in fp32, QAT), building the real artifact and judging it
through its own runtime on the validation split. The first that passes is kept; if none does
within `max_builds`, the variant is `rejected` with the best it reached. The starting setting is
predicted from the same variant's dense int8 drop, so on MNIST the first build usually passes.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import TensorDataset

from export import verify
from export.prune import FineTune, Structured, Unstructured, prune, prunable_widths
from export.variant import QuantRecipe, Runner

# Bisection runs over log2(1/kept) in [0, MAX_HALVINGS]: structured keeps at least 1/32 of each
# layer's channels (25 of the MLP's 800 units; first candidate 1/5.7 = 141), unstructured at least 1/16 of the weights
# (first candidate 75% sparsity). Unstructured candidates cost a full-size fine-tune each (~5 s
# quiet on 2 cores) and never shrink a file (dense storage), so their range starts lower.
MAX_HALVINGS = {"structured": 5.0, "unstructured": 4.0}


@dataclasses.dataclass
class Source:
    """A PyTorch model artifacts are made from: the checkpoint's, or a pruned, fine-tuned copy."""
    model: torch.nn.Module
    notes: list[str]
    setting: dict[str, Any]              # how it was made, as recorded in the manifest
    val_accuracy: float | None = None    # on the validation split
    logits: np.ndarray | None = None     # on every test image; computed when an artifact of it is verified
    accuracy: float | None = None        # test accuracy, same moment

    def tested(self, test_set: TensorDataset) -> "Source":
        if self.logits is None:
            self.logits = verify.reference_logits(self.model, test_set)
            self.accuracy = float((self.logits.argmax(1) == test_set.tensors[1].numpy()).mean())
        return self


@dataclasses.dataclass(frozen=True)
class Budget:
    """What a candidate must reach on the validation split."""
    reference_val: float   # the fp32 checkpoint's validation accuracy
    budget_pp: float
    margin_pp: float       # left unused on validation, for the val-to-test difference

    @property
    def allowed_pp(self) -> float:
        return self.budget_pp - self.margin_pp

    def passes(self, val_accuracy: float, expected_extra_pp: float = 0.0) -> bool:
        """Within the allowed drop (after `expected_extra_pp` more, e.g. a quantization's predicted cost)."""
        return verify.within_budget(val_accuracy, self.reference_val, self.allowed_pp - expected_extra_pp)

    def drop_pp(self, val_accuracy: float) -> float:
        return (self.reference_val - val_accuracy) * 100


def artifact_val_accuracy(runner: Runner, val_set: TensorDataset) -> float:
    """Validation accuracy through the artifact's own runtime."""
    images, labels = val_set.tensors
    logits = verify.predict_all(runner, images.numpy())
    return float((logits.argmax(1) == labels.numpy()).mean())


def model_val_accuracy(model: torch.nn.Module, val_set: TensorDataset) -> float:
    logits = verify.reference_logits(model, val_set)
    return float((logits.argmax(1) == val_set.tensors[1].numpy()).mean())


def pruning_setting(kind: str, strength: float, model: torch.nn.Module, finetune: FineTune) -> dict[str, Any]:
    setting: dict[str, Any] = {"pruning": kind}
    if kind == "structured":  # kept_channels: what is left of each narrowed layer, e.g. {"fc1": 141}
        setting.update(structured_ratio=round(strength, 4), kept_channels=prunable_widths(model))
    else:
        setting["sparsity"] = round(strength, 4)
    return {**setting, "finetune_epochs": finetune.epochs, "finetune_lr": finetune.lr, "finetune_distill": finetune.distill}


def fixed_source(kind: str, model: torch.nn.Module, strength: float, train_set: TensorDataset, finetune: FineTune) -> Source:
    """The fixed recipe (search off): one pruned, fine-tuned model."""
    how = Structured(strength) if kind == "structured" else Unstructured(strength)
    pruned, notes = prune(model, how, train_set, finetune)
    return Source(pruned, notes, pruning_setting(kind, strength, pruned, finetune))


def search_pruning(kind: str, model: torch.nn.Module, train_set: TensorDataset, val_set: TensorDataset, finetune: FineTune,
                   budget: Budget, steps: int, log: Callable[[str], None]) -> tuple[list[Source], list[dict]]:
    """Bisection over log2(1/kept): (passing candidates strongest first, every candidate's record).

    The strongest pass sits just inside the budget, which leaves int8 no room: when it is the only
    pass, one more candidate a bisection step weaker gives the int8 variants a setting to fall back
    on (measured: ONNX int8-dynamic at 141 of 800 units 0.04 pp over, at 175 units within)."""
    lo, hi = 0.0, MAX_HALVINGS[kind]
    passing, records = [], []

    def evaluate(halvings: float) -> bool:
        source = pruned_candidate(kind, halvings, model, train_set, val_set, finetune)
        ok = budget.passes(source.val_accuracy)
        records.append(candidate(source.setting, source.val_accuracy, None, ok, "pytorch fp32 (pruning search)"))
        log(f"search {kind}: {source.notes[0]}: val {source.val_accuracy:.2%} "
            f"({budget.drop_pp(source.val_accuracy):+.2f} pp drop) {'pass' if ok else 'miss'}")
        if ok:
            passing.append(source)
        return ok

    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if evaluate(mid) else (lo, mid)
    fallback = lo - MAX_HALVINGS[kind] / 2 ** steps
    if len(passing) == 1 and fallback > 0:
        evaluate(fallback)
    passing.sort(key=lambda s: strength_of(s.setting), reverse=True)
    return passing, records


def pruned_candidate(kind: str, halvings: float, model: torch.nn.Module, train_set: TensorDataset,
                     val_set: TensorDataset, finetune: FineTune) -> Source:
    """The model pruned to keep 2**-halvings of each layer's channels (structured) or of its weights, fine-tuned."""
    if kind == "structured":  # a whole number of the widest layer's channels, the ratio made exact for it
        widest = max(prunable_widths(model).values())
        strength = 1.0 - max(1, round(widest * 2 ** -halvings)) / widest
        how: Structured | Unstructured = Structured(strength)
    else:
        strength = 1.0 - 2 ** -halvings
        how = Unstructured(strength)
    pruned, notes = prune(model, how, train_set, finetune)
    return Source(pruned, notes, pruning_setting(kind, strength, pruned, finetune), model_val_accuracy(pruned, val_set))


def strength_of(setting: dict[str, Any]) -> float:
    return setting.get("structured_ratio", setting.get("sparsity", 0.0))


def candidate(setting: dict[str, Any], val_acc: float, size_bytes: int | None, within: bool,
              evaluated: str) -> dict[str, Any]:
    """One row of a manifest `search.candidates` list (docs/manifest.md)."""
    return {"setting": setting, "val_accuracy": val_acc, "size_bytes": size_bytes, "within_budget": within,
            "evaluated": evaluated}


def plan(sources: list[Source], ladder: tuple[QuantRecipe | None, ...], expected_drop_pp: float,
         budget: Budget, max_builds: int) -> list[tuple[Source, QuantRecipe | None]]:
    """(source, recipe) pairs to build, in order: from the strongest setting predicted to pass
    (its fp32 val drop plus `expected_drop_pp` of quantization within the allowed drop), each
    setting with every recipe before the next weaker setting; at most `max_builds`."""
    start = next((i for i, s in enumerate(sources) if budget.passes(s.val_accuracy, expected_drop_pp)),
                 len(sources) - 1)
    return [(s, r) for s in sources[max(start, 0):] for r in ladder][:max_builds]


def setting_of(source: Source, quantization: str, recipe: QuantRecipe | None) -> dict[str, Any]:
    """A build's full setting: the source's pruning setting plus the int8 recipe."""
    setting = {**source.setting, "quantization": quantization}
    return {**setting, **recipe.describe()} if recipe is not None else setting


def record(chosen: dict[str, Any] | None, pruning_records: list[dict], builds: list[dict]) -> dict[str, Any]:
    """A manifest `search` object: chosen setting, every candidate (pruning search, then builds), best reached."""
    tried = builds or pruning_records
    best = max(tried, key=lambda c: c["val_accuracy"], default=None)
    if chosen is not None:
        best = next(c for c in builds if c["setting"] == chosen)
    return {"chosen": chosen, "candidates": pruning_records + builds, "best": best}


def describe_best(best: dict[str, Any] | None, budget: Budget) -> str:
    if best is None:
        return "nothing was built"
    shown = {k: v for k, v in best["setting"].items() if not k.startswith("finetune_")}
    return (f"best {shown}: val {best['val_accuracy']:.2%}, {budget.drop_pp(best['val_accuracy']):.2f} pp below "
            f"fp32 val {budget.reference_val:.2%} (allowed {budget.allowed_pp:.2f} pp = budget "
            f"{budget.budget_pp} - margin {budget.margin_pp})")
