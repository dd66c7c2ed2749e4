"""Whether the `cuda` target can run here: its rows say `not measured` with the reason where it
cannot, a number is never made up. Its runners are the CPU ones with device="cuda" (runtime/runners.py).
"""
from __future__ import annotations

import onnxruntime as ort
import torch


def unavailable(runtime: str) -> str | None:
    """Why the cuda runtime `runtime` cannot be measured here, or None when it can."""
    if not torch.cuda.is_available():
        return "no CUDA device"
    if runtime.startswith("onnxruntime") and "CUDAExecutionProvider" not in ort.get_available_providers():
        return "onnxruntime-gpu is not installed (CUDAExecutionProvider absent)"
    return None
