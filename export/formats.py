"""The one registry of export formats: name -> module (see export/variant.py for the interface).

Adding a format is one file and one entry here.
"""
from __future__ import annotations

from types import ModuleType

from export import executorch, onnx, torchscript, torchscript_lite

FORMATS: dict[str, ModuleType] = {m.FORMAT: m for m in (torchscript, torchscript_lite, onnx, executorch)}


def get(name: str) -> ModuleType:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {sorted(FORMATS)}")
    return FORMATS[name]
