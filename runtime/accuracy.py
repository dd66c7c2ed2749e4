"""Accuracy of one runner on the full test set, and its top-1 agreement with the fp32 reference."""
from __future__ import annotations

import numpy as np

from export.verify import predict_all, within_budget

__all__ = ["evaluate", "predict_all", "within_budget"]


def evaluate(runner, images: np.ndarray, labels: np.ndarray, reference_top1: np.ndarray,
             batch: int) -> dict[str, float]:
    """{accuracy, top1_agreement}, both fractions in 0..1 over all len(images) images."""
    top1 = predict_all(runner, images, batch).argmax(axis=1)
    return {"accuracy": float((top1 == labels).mean()),
            "top1_agreement": float((top1 == reference_top1).mean())}
