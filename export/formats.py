"""The one registry of export formats: name -> module (see export/variant.py for the interface).

Adding a format is one file and one entry here. export.executorch is written separately and
needs the executorch package; it is registered whenever it imports (an ImportError of any
other module inside it is a real bug and is raised).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from export import onnx, torchscript, torchscript_lite

_modules: list[ModuleType] = [torchscript, torchscript_lite, onnx]
try:
    executorch = importlib.import_module("export.executorch")
except ModuleNotFoundError as e:  # only "the file is not there yet", never a broken import inside it
    if e.name != "export.executorch":
        raise
else:
    _modules.append(executorch)

FORMATS: dict[str, ModuleType] = {m.FORMAT: m for m in _modules}


def get(name: str) -> ModuleType:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {sorted(FORMATS)}")
    return FORMATS[name]
