"""TorchScript `.pt`: torch.jit.script, frozen for inference, loaded with torch.jit.load.

int8-dynamic: torch.ao dynamic quantization of every nn.Linear (int8 weights stored packed,
activations quantized per batch at run time); conv layers stay fp32, since torch.ao's dynamic
quantization covers linear (and recurrent) layers only, and the notes name them. The compression
search may also try per-channel weights or leave the output layer in fp32 (recipes()).
A model torch.jit.script cannot compile is `unsupported` here, with the compiler's reason. int8-static is not built here: torch.ao's
eager/FX static flows are deprecated in this torch in favour of pt2e, and a pt2e graph cannot
be scripted; the static int8 variants are the ONNX QDQ and ExecuTorch pt2e artifacts.
"""
from __future__ import annotations

import contextlib
import copy
import io
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from export.variant import FLOAT32, INPUT_SHAPE, QuantRecipe, Runner, Unsupported, Variant, check_input

FORMAT = "torchscript"
BACKENDS = ("cpu",)
EXTENSION = ".pt"

STATIC_REASON = ("int8-static is not built for TorchScript: torch.ao eager/FX static quantization is "
                 "deprecated in torch 2.x in favour of pt2e, whose exported graphs torch.jit cannot script; "
                 "see the onnx and executorch int8-static artifacts")


def recipes(quantization: str, output_layer: str | None = None, **build_options: object) -> tuple[QuantRecipe, ...]:
    """torch.ao dynamic quantization: per-tensor weights (its default, plain), per-channel, the output
    layer left fp32."""
    if quantization != "int8-dynamic":
        raise Unsupported(STATIC_REASON)
    plain = (QuantRecipe(per_channel=False, calibration="dynamic"), QuantRecipe(calibration="dynamic"))
    if not output_layer:
        return plain
    return plain + (QuantRecipe(per_channel=False, calibration="dynamic", fp32_layers=(output_layer,)),)


def quantized(model: nn.Module, quantization: str, recipe: QuantRecipe | None = None) -> nn.Module:
    """The eager model to script: itself (fp32) or a dynamically quantized copy (int8-dynamic)."""
    if quantization == "none":
        return model
    recipe = recipe or recipes(quantization)[0]
    qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if recipe.per_channel
               else torch.ao.quantization.default_dynamic_qconfig)
    spec = {name: qconfig for name in linear_layers(model) if name not in recipe.fp32_layers}
    with warnings.catch_warnings():  # torch.ao's deprecation notice, printed once per Linear
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), spec, dtype=torch.qint8)


def linear_layers(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]


def fp32_convs(model: nn.Module) -> list[str]:
    """The conv layers torch.ao dynamic quantization leaves in fp32 (it has no dynamic conv)."""
    return [name for name, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def scripted(model: nn.Module, quantization: str, recipe: QuantRecipe | None = None) -> torch.jit.ScriptModule:
    module = quantized(model, quantization, recipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.jit.script(module).eval()
        except (torch.jit.frontend.FrontendError, RuntimeError) as e:  # the compiler's errors: Python it cannot type
            first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
            raise Unsupported(f"torch.jit.script cannot compile {type(model).__name__}: {first[:200]}; "
                              f"the onnx and executorch artifacts are built through torch.export instead") from None


def build(model: nn.Module, variant: Variant, calib: torch.Tensor, out: Path,
          recipe: QuantRecipe | None = None) -> list[str]:
    # freeze inlines the weights as constants and folds attribute lookups: a smaller graph to run.
    with warnings.catch_warnings():  # torch.jit's FutureWarnings (deprecated in favour of torch.export)
        warnings.simplefilter("ignore", FutureWarning)
        frozen = torch.jit.freeze(scripted(model, variant.quantization, recipe))
        buffer = io.BytesIO()
        torch.jit.save(frozen, buffer)  # in memory: torch's file writer aborts the process on a full disk
    out.write_bytes(buffer.getbuffer())  # Python's write raises OSError(ENOSPC) instead
    return ["torch.jit.script + torch.jit.freeze"] + quant_notes(model, variant, recipe)


def quant_notes(model: nn.Module, variant: Variant, recipe: QuantRecipe | None) -> list[str]:
    if variant.quantization == "none":
        return []
    recipe = recipe or recipes(variant.quantization)[0]
    weights = "per-channel" if recipe.per_channel else "per-tensor"
    mixed = f"; {', '.join(recipe.fp32_layers)} left in fp32 (mixed precision)" if recipe.fp32_layers else ""
    convs = fp32_convs(model)
    fp32 = [f"{', '.join(convs)} stay fp32: torch.ao dynamic quantization quantizes only linear layers"] if convs else []
    return [f"torch.ao quantize_dynamic, {weights} int8 weights of the linear layers{mixed}"] + fp32


class TorchRunner:
    """A torch module (eager, TorchScript or lite) on `device`; numpy in, numpy out.

    The one PyTorch runner: export verifies through it and the report times it (runtime/runners.py,
    the eager checkpoint included). A call copies a small batch into an input tensor kept for its
    size (a larger one is wrapped by torch.from_numpy, zero-copy), runs the module and returns
    .numpy() of its output (_predict). Autograd stays out without a context manager per call where
    the module asks no gradients: frozen TorchScript, dynamic int8 weights, lite modules saved with
    requires_grad off (torchscript_lite.py) and the eager checkpoint (runners.checkpoint); after a
    forward that streams 2.5 MB of weights through the caches, a no_grad or inference_mode block
    measured 6-15 us, not its 0.7 us in a hot loop (docs/performance.md). A module whose output
    would still record gradients gets torch.inference_mode (one probe call at load). `eager`: the
    baseline keeps `model(x)` and measures its raw call under torch.no_grad, the training script's
    way. Anything but a float32 cpu batch of at most BUFFERED_BATCH images, of a size seen before,
    goes through check_input for its error.
    """

    def __init__(self, module, device: str = "cpu", eager: bool = False) -> None:
        self.module = module
        self.device = device
        self.eager = eager
        self.guard = _guard_for(module, device)  # None: no context
        # A script module's forward is its compiled method: calling it skips nn.Module.__call__'s
        # hook checks (~1 us). A lite module's forward is its one documented call besides __call__.
        # The eager baseline keeps model(x), the training script's call.
        forward = module if eager else module.forward
        # predict is a closure over these: right after a forward every attribute lookup on self
        # runs on cold caches, and reading closure cells instead saved 0.5-0.8 us of a 22-37 us
        # call, measured interleaved (docs/performance.md).
        # by input shape: (forward's argument, the numpy view of the input tensor inside it)
        self.buffers: dict[tuple[int, ...], tuple[object, np.ndarray]] = {}
        self.predict = _predict(forward, self.guard, device, self.buffers)

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """The documented call on every runner's contract, numpy in and numpy out:
        `module(torch.from_numpy(x)).numpy()` (both conversions zero-copy on cpu; `.to(device)` and
        `.cpu()` copy, and wait for the device, elsewhere) under an autograd guard (torch.no_grad for
        the eager baseline, torch.inference_mode otherwise): what predict() adds or saves is
        measured against it (runtime/harness.py runner_overhead)."""
        check_input(x)
        module, from_numpy, device = self.module, torch.from_numpy, self.device
        guard = torch.no_grad if self.eager else torch.inference_mode

        def on_cpu(x: np.ndarray) -> np.ndarray:
            with guard():
                return module(from_numpy(x)).numpy()

        def on_device(x: np.ndarray) -> np.ndarray:
            with guard():
                return module(from_numpy(x).to(device)).cpu().numpy()
        return on_cpu if device == "cpu" else on_device  # chosen once: no device test inside the timed call


# Batches up to this size are copied into an input tensor kept per batch size, instead of wrapped
# by torch.from_numpy: a new tensor per call costs more than copying a few images, and right after
# a forward every torch call runs on cold caches. Copy minus from_numpy, lite int8-dynamic
# structured, interleaved: -1.2 us at batch 1, level at 4 and 8, +1.1 us at 16, +3.7 us at 32
# (docs/performance.md). Larger batches stay zero-copy. At most 8 sizes, so the buffers are bounded.
BUFFERED_BATCH = 8


def _predict(forward, guard, device: str, buffers: dict) -> Callable[[np.ndarray], np.ndarray]:
    """TorchRunner.predict: numpy [N, 1, 28, 28] float32 in, logits out.

    Hot path (cpu, a float32 batch of a size up to BUFFERED_BATCH seen before): the buffer lookup
    checks the shape, `x.dtype is FLOAT32` the dtype, and `view[...] = x` copies any layout. The
    logits are fc2's fresh output, never a view of the buffer, so the next call leaves them alone.
    Anything else goes through `other`.
    """
    from_numpy = torch.from_numpy

    def other(x: np.ndarray) -> np.ndarray:
        """Bad input (check_input raises with what is wrong and the fix), a new batch size, a batch
        over BUFFERED_BATCH (zero-copy) or a device (.cpu() copies the logits back, which waits for
        the kernel)."""
        tensor = from_numpy(check_input(x))
        if device == "cpu" and len(x) <= BUFFERED_BATCH:
            tensor = tensor.clone()  # kept for this batch size: the next calls copy into it
            buffers[x.shape] = (tensor, tensor.numpy())
        with (guard or contextlib.nullcontext)():
            return forward(tensor.to(device)).cpu().numpy()

    if device != "cpu":  # no kept buffers on a device: every call is `other`, without a failed lookup first
        return other

    def predict(x: np.ndarray) -> np.ndarray:
        try:  # a non-array has no .shape
            arg, view = buffers[x.shape]
            if x.dtype is not FLOAT32:
                raise TypeError
            view[...] = x
        except (AttributeError, KeyError, TypeError):
            return other(x)
        if guard is None:
            return forward(arg).numpy()
        with guard():
            return forward(arg).numpy()
    return predict


def _guard_for(module, device: str):
    """torch.inference_mode when the module's output records gradients (one probe call), else None."""
    return torch.inference_mode if module(torch.zeros((1, *INPUT_SHAPE), device=device)).requires_grad else None


def load(path: Path, threads: int | None = None, device: str = "cpu") -> Runner:
    # torch's intra-op thread count is per process, not per module: this sets it for everything.
    if threads:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return TorchRunner(torch.jit.load(str(path), map_location=device), device)
