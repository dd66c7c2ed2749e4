"""TorchScript `.pt`: torch.jit.script, frozen for inference, loaded with torch.jit.load.

int8-dynamic: torch.ao dynamic quantization of every nn.Linear (int8 weights stored packed,
activations quantized per batch at run time); the compression search may also try per-channel
weights or leave fc2 in fp32 (recipes()). int8-static is not built here: torch.ao's
eager/FX static flows are deprecated in this torch in favour of pt2e, and a pt2e graph cannot
be scripted; the static int8 variants are the ONNX QDQ and ExecuTorch pt2e artifacts.
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export.variant import LAYERS, QuantRecipe, Runner, Unsupported, Variant, check_input

FORMAT = "torchscript"
BACKENDS = ("cpu",)
EXTENSION = ".pt"

STATIC_REASON = ("int8-static is not built for TorchScript: torch.ao eager/FX static quantization is "
                 "deprecated in torch 2.x in favour of pt2e, whose exported graphs torch.jit cannot script; "
                 "see the onnx and executorch int8-static artifacts")


def recipes(quantization: str, **build_options: object) -> tuple[QuantRecipe, ...]:
    """torch.ao dynamic quantization: per-tensor weights (its default, plain), per-channel, fc2 left fp32."""
    if quantization != "int8-dynamic":
        raise Unsupported(STATIC_REASON)
    return (QuantRecipe(per_channel=False, calibration="dynamic"), QuantRecipe(calibration="dynamic"),
            QuantRecipe(per_channel=False, calibration="dynamic", fp32_layers=("fc2",)))


def quantized(model: nn.Module, quantization: str, recipe: QuantRecipe | None = None) -> nn.Module:
    """The eager model to script: itself (fp32) or a dynamically quantized copy (int8-dynamic)."""
    if quantization == "none":
        return model
    recipe = recipe or recipes(quantization)[0]
    qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if recipe.per_channel
               else torch.ao.quantization.default_dynamic_qconfig)
    spec = {name: qconfig for name in LAYERS if name not in recipe.fp32_layers}
    with warnings.catch_warnings():  # torch.ao's deprecation notice, printed once per Linear
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), spec, dtype=torch.qint8)


def scripted(model: nn.Module, quantization: str, recipe: QuantRecipe | None = None) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.script(quantized(model, quantization, recipe)).eval()


def build(model: nn.Module, variant: Variant, calib: torch.Tensor, out: Path,
          recipe: QuantRecipe | None = None) -> list[str]:
    # freeze inlines the weights as constants and folds attribute lookups: a smaller graph to run.
    with warnings.catch_warnings():  # torch.jit's FutureWarnings (deprecated in favour of torch.export)
        warnings.simplefilter("ignore", FutureWarning)
        frozen = torch.jit.freeze(scripted(model, variant.quantization, recipe))
        frozen.save(str(out))
    return ["torch.jit.script + torch.jit.freeze"] + quant_notes(variant, recipe)


def quant_notes(variant: Variant, recipe: QuantRecipe | None) -> list[str]:
    if variant.quantization == "none":
        return []
    recipe = recipe or recipes(variant.quantization)[0]
    weights = "per-channel" if recipe.per_channel else "per-tensor"
    mixed = f"; {', '.join(recipe.fp32_layers)} left in fp32 (mixed precision)" if recipe.fp32_layers else ""
    return [f"torch.ao quantize_dynamic, {weights} int8 weights{mixed}"]


class TorchRunner:
    """Any callable torch module (TorchScript or lite) behind the Runner interface."""

    def __init__(self, module) -> None:
        self.module = module

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.module(torch.from_numpy(check_input(x))).numpy()


def load(path: Path, threads: int | None = None) -> Runner:
    # torch's intra-op thread count is per process, not per module: this sets it for everything.
    if threads:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return TorchRunner(torch.jit.load(str(path), map_location="cpu"))
