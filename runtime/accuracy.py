"""Accuracy of one runner on the full test set, and its top-1 agreement with the fp32 reference."""
from __future__ import annotations

import numpy as np


def predict_all(runner, images: np.ndarray, batch: int) -> np.ndarray:
    """Logits for every image, `batch` at a time, through the runner's own predict()."""
    outs = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        logits = np.asarray(runner.predict(chunk))
        if logits.ndim != 2 or logits.shape[0] != len(chunk):
            raise RuntimeError(f"predict returned shape {list(logits.shape)} for {len(chunk)} images; "
                               f"expected [{len(chunk)}, classes]")
        outs.append(logits)
    return np.concatenate(outs)


def evaluate(runner, images: np.ndarray, labels: np.ndarray, reference_top1: np.ndarray,
             batch: int) -> dict[str, float]:
    """{accuracy, top1_agreement}, both fractions in 0..1 over all len(images) images."""
    top1 = predict_all(runner, images, batch).argmax(axis=1)
    return {"accuracy": float((top1 == labels).mean()),
            "top1_agreement": float((top1 == reference_top1).mean())}


def within_budget(accuracy: float, reference: float, budget_pp: float) -> bool:
    """At most `budget_pp` percentage points below the reference (1e-9: float round-off only)."""
    return (reference - accuracy) * 100.0 <= budget_pp + 1e-9
