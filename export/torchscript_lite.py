"""TorchScript lite-interpreter `.ptl` (the PyTorch Mobile format), loaded with torch.jit.mobile.

optimize_for_mobile is tried first; in torch builds without XNNPACK compiled into the JIT (this
one: "Mobile optimization only available with XNNPACK ... Please build with USE_XNNPACK=1") it
raises, and the module is saved without it; the manifest's notes say so. The module is not
frozen before saving: a frozen dynamic-quantized module saves its packed weights twice (2x file).
Its fp32 weights are saved with requires_grad off instead, so the loaded module records no
autograd and its runner needs no inference_mode block per call (export/torchscript.py TorchRunner).
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.jit.mobile import _load_for_lite_interpreter
from torch.utils.mobile_optimizer import optimize_for_mobile

from export import torchscript
from export.torchscript import TorchRunner, quant_notes, scripted
from export.variant import QuantRecipe, Runner, Variant

FORMAT = "torchscript-lite"
BACKENDS = ("cpu",)
EXTENSION = ".ptl"
recipes = torchscript.recipes  # the same torch.ao dynamic quantization as the .pt


def build(model: nn.Module, variant: Variant, calib: torch.Tensor, out: Path,
          recipe: QuantRecipe | None = None) -> list[str]:
    # A script module shares its parameters with the eager one: switch requires_grad off on a copy.
    module = scripted(copy.deepcopy(model).requires_grad_(False), variant.quantization, recipe)
    try:
        module = optimize_for_mobile(module)
        notes = ["optimize_for_mobile applied"]
    except RuntimeError as e:
        if "XNNPACK" not in str(e):
            raise
        first = next((line for line in str(e).splitlines() if "XNNPACK" in line), str(e)).strip()
        notes = [f"optimize_for_mobile unavailable in this torch build: {first[:200]}"]
    with warnings.catch_warnings():  # "Lite Interpreter is deprecated" FutureWarning, once per call
        warnings.simplefilter("ignore", FutureWarning)
        # In memory, then written by Python: torch's file writer aborts the process on a full disk,
        # Python's write raises OSError(ENOSPC). The lite interpreter's whole API is underscored.
        data = module._save_to_buffer_for_lite_interpreter()
    out.write_bytes(data)
    return notes + quant_notes(model, variant, recipe)


def load(path: Path, threads: int | None = None) -> Runner:
    if threads:
        torch.set_num_threads(threads)  # process-wide, as for torch.jit.load
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return TorchRunner(_load_for_lite_interpreter(str(path), map_location="cpu"))
