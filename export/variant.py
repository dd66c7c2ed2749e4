"""What one artifact is: a format, a backend and a variant (quantization x pruning).

Shared vocabulary of every export-format module (export/torchscript.py, export/onnx.py,
export/executorch.py). Each such module exposes the same two functions:

    build(model, variant, calib, out, recipe=None) -> list[str]
        Write the artifact for `variant` to the path `out` (the caller passes a temp path and
        renames it on success). `model` is the fp32 PyTorch model in eval mode, already pruned
        when variant.pruning != "none"; `calib` is a float32 tensor [N, 1, 28, 28] of normalized
        *training* images for static quantization; `recipe` says how an int8 variant is
        quantized (None: the format's plain recipe, recipes(quantization)[0]). Returns notes for
        the manifest (may be []). Raises Unsupported(reason) for a combination this format cannot produce.

    recipes(quantization, output_layer=None, **build_options) -> tuple[QuantRecipe, ...]
        The int8 recipes the format's library offers, plain first, then the ones the compression
        search tries when the plain one misses the accuracy budget (export/search.py); with
        `output_layer` (the model's last layer, export/layers.py) one of them leaves that layer in
        fp32. Takes the same format-specific options as build() (e.g. ONNX's calibration_method).

    load(path, threads=None) -> Runner
        Load the artifact with the format's own runtime.
"""
from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

QUANTIZATIONS = ("none", "int8-dynamic", "int8-static")
PRUNINGS = ("none", "unstructured", "structured")
INPUT_SHAPE = (1, 28, 28)  # per image, NCHW without N
FLOAT32 = np.dtype(np.float32)  # native float32; dtypes are singletons, so `x.dtype is FLOAT32` is the cheapest exact check
# Runners that bind buffers per batch size (ORT I/O binding, ExecuTorch) keep those of at most this
# many sizes, dropping the oldest: a server called with ever-new batch sizes stays bounded in memory.
BOUND_SHAPES = 8


class Unsupported(Exception):
    """This format/backend cannot produce this variant; the message is the reason for the manifest."""


@dataclasses.dataclass(frozen=True)
class Variant:
    format: str                # torchscript | torchscript-lite | onnx | executorch
    backend: str               # cpu | xnnpack | portable
    quantization: str = "none"
    pruning: str = "none"
    model: str = "mlp"         # the model's name in file names (ModelSpec.stem); the MLP is the default model

    def __post_init__(self) -> None:
        if self.quantization not in QUANTIZATIONS:
            raise ValueError(f"unknown quantization {self.quantization!r}; choose one of {QUANTIZATIONS}")
        if self.pruning not in PRUNINGS:
            raise ValueError(f"unknown pruning {self.pruning!r}; choose one of {PRUNINGS}")

    @property
    def name(self) -> str:
        """Human-readable, unique file stem, e.g. cnn_executorch-xnnpack_int8-static_structured."""
        parts = [self.model, self.format if self.backend == "cpu" else f"{self.format}-{self.backend}"]
        parts.append("fp32" if self.quantization == "none" else self.quantization)
        if self.pruning != "none":
            parts.append(self.pruning)
        return "_".join(parts)


@dataclasses.dataclass(frozen=True)
class QuantRecipe:
    """How an int8 variant is quantized, in the terms the quantization libraries use."""
    per_channel: bool = True            # one weight scale per output unit (else one per tensor)
    calibration: str = "minmax"         # activation-range method of static int8 (the library's name)
    fp32_layers: tuple[str, ...] = ()   # layers left in fp32 (mixed precision): module names, e.g. ("fc2",)
    qat_epochs: int = 0                 # quantization-aware training epochs (pt2e fake-quant) before convert

    def __post_init__(self) -> None:
        if not all(isinstance(name, str) and name for name in self.fp32_layers) or self.qat_epochs < 0:
            raise ValueError(f"fp32_layers must be module names and qat_epochs >= 0; got {self}")

    def describe(self) -> dict[str, object]:
        return {"per_channel": self.per_channel, "calibration": self.calibration,
                "fp32_layers": list(self.fp32_layers), "qat_epochs": self.qat_epochs}


class Runner(Protocol):
    """A loaded artifact. predict() takes normalized float32 images [N, 1, 28, 28], returns logits [N, C]."""

    def predict(self, x: np.ndarray) -> np.ndarray: ...


def check_input(x: np.ndarray) -> np.ndarray:
    """Reject what no artifact accepts, naming what was expected and what came."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"expected a numpy.ndarray of float32 with shape [N, 1, 28, 28], got {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"expected dtype float32 (normalized pixels), got {x.dtype}; use x.astype(np.float32)")
    if x.ndim != 4 or tuple(x.shape[1:]) != INPUT_SHAPE or x.shape[0] < 1:
        raise ValueError(f"expected shape [N, 1, 28, 28] with N >= 1, got {list(x.shape)}")
    return np.ascontiguousarray(x)
