"""The `cuda` target: PyTorch eager and TorchScript on the GPU, ONNX Runtime's CUDA provider.

Every predict ends in torch.cuda.synchronize() (or a device->host copy, which waits for the
GPU), so the timed call covers the kernel and not just its launch. Where there is no CUDA
device the rows say `not measured` with the reason; a number is never made up.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from export.variant import Runner, check_input
from train.checkpoint import load_model

RUNTIMES = ("torch-eager-cuda", "torchscript-cuda", "onnxruntime-cuda")


def unavailable(runtime: str) -> str | None:
    """Why `runtime` cannot be measured here, or None when it can."""
    if not torch.cuda.is_available():
        return "no CUDA device"
    if runtime == "onnxruntime-cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
        return "onnxruntime-gpu is not installed (CUDAExecutionProvider absent)"
    return None


class TorchCudaRunner:
    def __init__(self, module) -> None:
        self.module = module

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            y = self.module(torch.from_numpy(check_input(x)).to("cuda"))
            torch.cuda.synchronize()
            return y.cpu().numpy()


class OrtCudaRunner:
    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session

    def predict(self, x: np.ndarray) -> np.ndarray:
        # session.run copies the output back to host memory, which waits for the GPU.
        return self.session.run(None, {self.session.get_inputs()[0].name: check_input(x)})[0]


def load(runtime: str, path: Path, threads: int | None = None) -> Runner:
    """`path`: the checkpoint for torch-eager-cuda, a .pt for torchscript-cuda, a .onnx otherwise."""
    if runtime == "torch-eager-cuda":
        model, _ = load_model(Path(path))
        return TorchCudaRunner(model.to("cuda"))
    if runtime == "torchscript-cuda":
        return TorchCudaRunner(torch.jit.load(str(path), map_location="cuda"))
    if runtime == "onnxruntime-cuda":
        return OrtCudaRunner(ort.InferenceSession(str(path), providers=["CUDAExecutionProvider"]))
    raise ValueError(f"unknown cuda runtime {runtime!r}; choose from {RUNTIMES}")
