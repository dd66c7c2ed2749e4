"""Check an artifact, through its own runtime, against the PyTorch model it was made from.

Run on the full test set (10k MNIST images), in batches, so the numbers are real accuracy and
real parity, never random inputs alone. The bounds:
  fp32 (quantization none): max |logit difference| <= fp32_tolerance and 100% top-1 agreement;
  int8 or pruned:           test accuracy at most budget_pp percentage points below the fp32
                            dense reference (pruned fp32 artifacts must meet both).
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from export.variant import Runner, Variant

if TYPE_CHECKING:
    from torch import nn
    from torch.utils.data import TensorDataset

BATCH = 1000  # images per predict() call: 10 calls for the test set, small enough for any runtime
# The bounds every artifact is held to, written once (ExportConfig's defaults, tests and tools/bench read these).
FP32_TOLERANCE = 1e-4        # max |logit diff| of an fp32 artifact vs PyTorch; ORT's fp32 Gemm differs by ~1e-5
SIZE_INT8 = 0.27             # an int8 file is at most 27% of the same format's fp32 file (4x smaller weights + overhead)
SIZE_STRUCTURED_INT8 = 0.15  # a structured-pruned int8 file is at most 15% of the dense fp32 file
# The mobile demos' check of a quantized artifact on the n embedded test vectors (Verifier.java,
# core.js; export.embed writes it into each demo's manifest as test_vectors.quantized_check).
# int8 may flip a borderline image's top-1, so allowed_flips(n) flips pass: a correct artifact
# flipping max_flip_rate of images then fails once in 1/false_alarm checks, whatever n is.
# 1%: above every int8 artifact's measured disagreement with its source on the 10k test images
# (0.01-0.68%, the manifest's parity.top1_agreement); with 32 vectors it allows 3 flips.
QUANTIZED_CHECK = {"max_flip_rate": 0.01, "false_alarm": 0.001}


@dataclasses.dataclass(frozen=True)
class Check:
    max_abs_diff: float    # over all test images and classes, vs the source PyTorch model
    top1_agreement: float  # fraction of test images where the artifact and its source agree
    test_accuracy: float   # fraction correct, via the artifact's runtime


def reference_logits(model: nn.Module, test_set: TensorDataset) -> np.ndarray:
    """The source model's logits for every test image, computed once per source model."""
    import torch  # here: the bounds above are read by CLIs that never load torch (runtime.config)

    images, _ = test_set.tensors
    with torch.no_grad():
        return torch.cat([model(images[i:i + BATCH]) for i in range(0, len(images), BATCH)]).numpy()


def predict_all(runner: Runner, images: np.ndarray, batch: int = BATCH) -> np.ndarray:
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


def within_budget(accuracy: float, reference: float, budget_pp: float) -> bool:
    """At most `budget_pp` percentage points below the reference (1e-9: float round-off only)."""
    return (reference - accuracy) * 100.0 <= budget_pp + 1e-9


def check(runner: Runner, expected: np.ndarray, test_set: TensorDataset) -> Check:
    images, labels = test_set.tensors
    got = predict_all(runner, images.numpy())
    if got.shape != expected.shape:
        raise ValueError(f"artifact returned logits of shape {list(got.shape)}, expected {list(expected.shape)}")
    top1 = got.argmax(1)
    return Check(max_abs_diff=float(np.abs(got.astype(np.float64) - expected).max()),
                 top1_agreement=float((top1 == expected.argmax(1)).mean()),
                 test_accuracy=float((top1 == labels.numpy()).mean()))


def judge(variant: Variant, result: Check, reference_accuracy: float,
          fp32_tolerance: float, budget_pp: float) -> str | None:
    """None when the artifact is within its bounds, else the reason it fails, with the numbers."""
    problems = [p for p in (parity_problem(variant, result, fp32_tolerance),
                            budget_problem(variant, result, reference_accuracy, budget_pp)) if p]
    return "; ".join(problems) or None


def parity_problem(variant: Variant, result: Check, fp32_tolerance: float) -> str | None:
    """fp32 artifacts must reproduce their PyTorch source (a miss means a broken export)."""
    if variant.quantization != "none":
        return None
    problems = []
    if not result.max_abs_diff <= fp32_tolerance:  # `not <=` also catches NaN
        problems.append(f"max abs logit diff {result.max_abs_diff:.3g} > fp32 tolerance {fp32_tolerance:g}")
    if result.top1_agreement < 1.0:
        problems.append(f"top-1 agreement {result.top1_agreement:.2%} < 100%")
    return "; ".join(problems) or None


def budget_problem(variant: Variant, result: Check, reference_accuracy: float, budget_pp: float) -> str | None:
    """int8 and pruned artifacts may lose at most `budget_pp` points of test accuracy."""
    if variant.quantization == "none" and variant.pruning == "none":
        return None
    if within_budget(result.test_accuracy, reference_accuracy, budget_pp):
        return None
    drop_pp = (reference_accuracy - result.test_accuracy) * 100
    return (f"test accuracy {result.test_accuracy:.2%} is {drop_pp:.2f} pp below the fp32 "
            f"reference {reference_accuracy:.2%} (budget {budget_pp} pp)")


def allowed_flips(n: int, max_flip_rate: float, false_alarm: float) -> int:
    """The smallest k with P[Binomial(n, max_flip_rate) > k] <= false_alarm: the top-1 flips a quantized
    artifact may show on n vectors. Same arithmetic, step for step, as QuantizedCheck.java and
    core.js's allowedFlips (tests compare them); n <= 10k keeps (1 - rate)^n a normal double."""
    p = 1.0
    for _ in range(n):  # repeated products, not pow: every step exactly rounded, in every language
        p *= 1.0 - max_flip_rate
    cdf, k = p, 0
    while k < n and 1.0 - cdf > false_alarm:
        p *= (n - k) / (k + 1) * (max_flip_rate / (1.0 - max_flip_rate))  # P[X = k + 1]
        cdf += p
        k += 1
    return k
