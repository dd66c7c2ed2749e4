"""Which runtimes run which artifacts, on which target: one dict, one entry per runtime.

A runtime is an export format's own loader and runner (export/torchscript.py, onnx.py,
executorch.py: the same runner the export verifies through) with the device as a parameter, the
artifacts it runs, and its raw call: the runtime's own documented call, numpy in and numpy out,
which each runner's overhead is measured against (runtime/compare.py).
A runner may call the runtime a faster documented way (ORT's I/O binding, a kept input tensor),
so its overhead can come out negative. ONNX artifacts run
both through `session.run` and through I/O binding, reported as two runtimes so the two calls
compare side by side. Runtimes whose `runs` is None run the checkpoint: the torch-eager baselines.
Adding a runtime (a CUDA one included) is one entry here.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Callable

import onnxruntime as ort
import torch

from export import executorch, onnx, torchscript, torchscript_lite
from export.torchscript import TorchRunner
from export.variant import Runner
from runtime.manifest import Artifact
from train.checkpoint import load_model


@dataclasses.dataclass(frozen=True)
class Runtime:
    target: str                                    # the report target of its rows: cpu | cuda
    runs: Callable[[Artifact], bool] | None        # which manifest artifacts it runs; None: the checkpoint
    load: Callable[..., Runner]                    # (path, threads=None) -> runner with predict() and raw()
    raw_call: str                                  # the runtime's own call, for the report's runner_overhead
    # The packages whose installed versions are this runtime's build. The export verified every
    # artifact through its format's runner on this build (export/verify.py): a row may take that
    # accuracy when the manifest recorded the same versions (runtime/measure.py exported_scores).
    # () for a build the export never ran (CUDA): it always measures.
    builds: tuple[str, ...] = ()


def artifacts(fmt: str, backend: str | None = None, fp32_only: bool = False) -> Callable[[Artifact], bool]:
    def runs(a: Artifact) -> bool:
        return (a.format == fmt and (backend is None or a.backend == backend)
                and (not fp32_only or a.quantization == "none"))
    return runs


def checkpoint(path: Path, threads: int | None = None, device: str = "cpu") -> Runner:
    """torch-eager(-cuda), every row's baseline: the fp32 checkpoint (checkpoints/mlp.pt) called as
    the training script evaluates it, `model(x)`, its weights' requires_grad off: autograd records
    nothing, as under torch.no_grad(), without a context per call."""
    if threads:
        torch.set_num_threads(threads)  # torch's intra-op thread count is per process
    model, _ = load_model(Path(path))
    return TorchRunner(model.eval().requires_grad_(False).to(device), device, eager=True)


# Each runtime's own documented call on the contract every runner serves, numpy in and numpy out,
# on inputs the harness passes per call: what a runner adds (checks, copies) or saves (kept
# buffers, I/O binding) is measured against it. ORT's session.run takes and returns numpy itself;
# torch and ExecuTorch take tensors, so their call wraps the array with torch.from_numpy and
# returns .numpy() of the output, both zero-copy on cpu.
TORCH_CALL = "module(torch.from_numpy(x)).numpy() under torch.inference_mode()"
EAGER_CALL = "model(torch.from_numpy(x)).numpy() under torch.no_grad()"
ORT_CALL = "session.run([output], {input: x})[0]"  # I/O binding is a runner's way of calling ORT, not ORT's call
ET_CALL = "method.execute([torch.from_numpy(x)])[0].numpy() (executorch.runtime)"
CUDA_TORCH = "module(torch.from_numpy(x).to('cuda')).cpu().numpy() under torch.inference_mode()"
CUDA_EAGER = "model(torch.from_numpy(x).to('cuda')).cpu().numpy() under torch.no_grad()"

RUNTIMES: dict[str, Runtime] = {
    "torch-eager": Runtime("cpu", None, checkpoint, EAGER_CALL),
    "torchscript": Runtime("cpu", artifacts("torchscript"), torchscript.load, TORCH_CALL, ("torch",)),
    "torchscript-lite": Runtime("cpu", artifacts("torchscript-lite"), torchscript_lite.load, TORCH_CALL, ("torch",)),
    "onnxruntime": Runtime("cpu", artifacts("onnx"), functools.partial(onnx.load, bind=False), ORT_CALL,
                           ("onnxruntime",)),
    "onnxruntime-iobinding": Runtime("cpu", artifacts("onnx"), onnx.load, ORT_CALL, ("onnxruntime",)),
    "executorch-xnnpack": Runtime("cpu", artifacts("executorch", "xnnpack"), executorch.load, ET_CALL,
                                  ("executorch",)),
    "executorch-portable": Runtime("cpu", artifacts("executorch", "portable"), executorch.load, ET_CALL,
                                   ("executorch",)),
    "torch-eager-cuda": Runtime("cuda", None, functools.partial(checkpoint, device="cuda"),
                                CUDA_EAGER),
    # quantized TorchScript ops are CPU-only
    "torchscript-cuda": Runtime("cuda", artifacts("torchscript", fp32_only=True),
                                functools.partial(torchscript.load, device="cuda"), CUDA_TORCH),
    "onnxruntime-cuda": Runtime("cuda", artifacts("onnx"), functools.partial(onnx.load, device="cuda"), ORT_CALL),
}


def of_target(target: str) -> dict[str, Runtime]:
    return {name: r for name, r in RUNTIMES.items() if r.target == target}


def runtimes_for(artifact: Artifact, target: str = "cpu") -> list[str]:
    """The runtimes of `target` that run this artifact; [] when none does."""
    return [name for name, r in of_target(target).items() if r.runs is not None and r.runs(artifact)]


def unavailable(runtime: str) -> str | None:
    """Why `runtime` cannot run on this machine, or None when it can."""
    if RUNTIMES[runtime].target != "cuda":
        return None
    if not torch.cuda.is_available():
        return "no CUDA device"
    if runtime.startswith("onnxruntime") and "CUDAExecutionProvider" not in ort.get_available_providers():
        return "onnxruntime-gpu is not installed (CUDAExecutionProvider absent)"
    return None


def load(runtime: str, path: Path, threads: int | None) -> Runner:
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {sorted(RUNTIMES)}")
    return RUNTIMES[runtime].load(Path(path), threads=threads)
