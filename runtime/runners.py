"""Which runtimes run which artifact: one dict, runtime name -> how to load.

Each artifact runs with its format's own loader (export/<format>.py `load`); ONNX artifacts
also run through our I/O-binding runner (runtime/onnx_fast.py), reported as its own
runtime so the two can be compared side by side. `torch-eager` loads the checkpoint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from export import formats
from export.variant import Runner
from runtime import eager, onnx_fast
from runtime.manifest import Artifact

Loader = Callable[..., Runner]  # (path, threads=None) -> Runner


def _format_loader(fmt: str) -> Loader:
    def load(path: Path, threads: int | None = None) -> Runner:
        return formats.get(fmt).load(Path(path), threads=threads)
    return load


RUNTIMES: dict[str, Loader] = {
    "torch-eager": eager.load,
    "torchscript": _format_loader("torchscript"),
    "torchscript-lite": _format_loader("torchscript-lite"),
    "onnxruntime": _format_loader("onnx"),
    "onnxruntime-iobinding": onnx_fast.load,
    "executorch-xnnpack": _format_loader("executorch"),
    "executorch-portable": _format_loader("executorch"),
}

# format -> the runtimes (names in RUNTIMES) that run its artifacts on the cpu target.
BY_FORMAT: dict[str, tuple[str, ...]] = {
    "torchscript": ("torchscript",),
    "torchscript-lite": ("torchscript-lite",),
    "onnx": ("onnxruntime", "onnxruntime-iobinding"),
    "executorch": ("executorch-{backend}",),
}


def runtimes_for(artifact: Artifact) -> list[str]:
    """The cpu runtimes of an artifact; [] for a format we have no runtime for."""
    names = [n.format(backend=artifact.backend) for n in BY_FORMAT.get(artifact.format, ())]
    return [n for n in names if n in RUNTIMES]


def load(runtime: str, path: Path, threads: int | None) -> Runner:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {sorted(RUNTIMES)}")
    return RUNTIMES[runtime](path, threads=threads)
