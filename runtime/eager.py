"""PyTorch runtimes, one runner for all of them: the eager checkpoint (every row's baseline),
TorchScript and the lite interpreter, on the CPU or a CUDA device.

The baseline runs the fp32 checkpoint as the seed's test loop does, `model(x)` under
torch.no_grad(); TorchScript and lite modules run under torch.inference_mode (measured no
different from no_grad at batch 1 in docs/performance.md). On CUDA, `.cpu()` copies the logits
back, which waits for the kernel, so the timed call covers the work and not just its launch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from export import formats
from export.variant import Runner, check_input
from train.checkpoint import load_model


class TorchRunner:
    """A torch module (eager, TorchScript or lite) on `device`; numpy in, numpy out.

    The input goes into a host tensor allocated once per batch size (np.copyto through its numpy
    view); the buffer lookup (by shape) and casting="no" (float32 only) validate it, and anything
    unexpected goes through check_input for its error, as in runtime/executorch_fast.py."""

    def __init__(self, module, device: str = "cpu", guard=torch.inference_mode) -> None:
        self.module = module
        self.device = device
        self.guard = guard  # autograd off: torch.no_grad for the eager baseline, inference_mode otherwise
        self.inputs: dict[tuple[int, ...], tuple[torch.Tensor, np.ndarray]] = {}  # by input shape

    def _input(self, shape: tuple[int, ...]) -> tuple[torch.Tensor, np.ndarray]:
        if shape not in self.inputs:
            tensor = torch.empty(shape, dtype=torch.float32)
            self.inputs[shape] = (tensor, tensor.numpy())
        return self.inputs[shape]

    def predict(self, x: np.ndarray) -> np.ndarray:
        try:  # hot path: a float32 batch of a size seen before
            tensor, view = self.inputs[x.shape]
            np.copyto(view, x, casting="no")
        except (AttributeError, KeyError, TypeError):
            tensor, view = self._input(check_input(x).shape)
            np.copyto(view, x)
        with self.guard():
            if self.device == "cpu":
                return self.module(tensor).numpy()
            return self.module(tensor.to(self.device)).cpu().numpy()

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], object]:
        """The runtime's own call on an input tensor made once: what predict() adds is measured against it."""
        t = torch.from_numpy(check_input(x).copy()).to(self.device)
        synchronize = torch.cuda.synchronize if self.device != "cpu" else (lambda: None)

        def call(_: np.ndarray):
            with self.guard():
                y = self.module(t)
            synchronize()
            return y
        return call


def checkpoint_loader(device: str) -> Callable[..., Runner]:
    """torch-eager(-cuda): `path` is the checkpoint (checkpoints/mlp.pt)."""
    def load(path: Path, threads: int | None = None) -> Runner:
        if threads:
            torch.set_num_threads(threads)  # torch's intra-op thread count is per process
        model, _ = load_model(Path(path))
        return TorchRunner(model.eval().to(device), device, guard=torch.no_grad)
    return load


def module_loader(fmt: str, device: str) -> Callable[..., Runner]:
    """A TorchScript (.pt) or lite (.ptl) artifact, loaded by its export format's own loader."""
    def load(path: Path, threads: int | None = None) -> Runner:
        module = formats.get(fmt).load(Path(path), threads=threads).module
        return TorchRunner(module if device == "cpu" else module.to(device), device)
    return load
