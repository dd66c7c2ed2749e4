"""ONNX Runtime, one runner for both of its calls and both devices.

`session.run(names, {name: array})` (bind=False) is ORT's documented default call: on every call
it converts the input dict to OrtValues, allocates the output and wraps it in a new numpy array,
several microseconds, a large share of a ~30-60 us batch-1 inference. With I/O binding (bind=True)
the input and output buffers of each batch size are allocated once and bound once (OrtValues
viewing numpy arrays); a call copies x into the input buffer, runs, and returns a copy of the
output buffer (40 bytes per image; it keeps the next call from overwriting what the caller holds).
On CUDA the bound buffers stay in host memory: run_with_iobinding copies them to and from the
device inside the call, which waits for the GPU. The measured effect is in docs/performance.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort

from export.variant import Runner, check_input

PROVIDERS = {"cpu": ["CPUExecutionProvider"], "cuda": ["CUDAExecutionProvider"]}


def session_options(threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # a 2-layer chain has no parallel branches
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    return options


class OrtRunner:
    def __init__(self, session: ort.InferenceSession, bind: bool) -> None:
        self.session = session
        self.bind = bind
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.classes = session.get_outputs()[0].shape[-1]
        self.bound: dict[tuple[int, ...], tuple[ort.IOBinding, np.ndarray, np.ndarray]] = {}  # by input shape

    def _binding(self, shape: tuple[int, ...]) -> tuple[ort.IOBinding, np.ndarray, np.ndarray]:
        """Buffers and binding for one batch size, made on the first call at that size."""
        if shape not in self.bound:
            x_buf = np.zeros(shape, dtype=np.float32)
            y_buf = np.zeros((shape[0], self.classes), dtype=np.float32)
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(self.input_name, ort.OrtValue.ortvalue_from_numpy(x_buf))
            binding.bind_ortvalue_output(self.output_name, ort.OrtValue.ortvalue_from_numpy(y_buf))
            self.bound[shape] = (binding, x_buf, y_buf)
        return self.bound[shape]

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not self.bind:
            return self.session.run([self.output_name], {self.input_name: check_input(x)})[0]
        try:  # hot path: a float32 batch of a size seen before (casting="no" refuses any other dtype)
            binding, x_buf, y_buf = self.bound[x.shape]
            np.copyto(x_buf, x, casting="no")
        except (AttributeError, KeyError, TypeError):  # bad input: check_input says what; else a new size
            binding, x_buf, y_buf = self._binding(check_input(x).shape)
            np.copyto(x_buf, x)
        self.session.run_with_iobinding(binding)
        return y_buf.copy()

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], object]:
        """ORT's own call, `session.run` on a feed dict made once, for both modes: I/O binding is this
        runner's way of calling ORT, so its overhead over ORT's own call can be negative."""
        feeds, names = {self.input_name: check_input(x).copy()}, [self.output_name]
        return lambda _: self.session.run(names, feeds)


def loader(device: str, bind: bool) -> Callable[..., Runner]:
    def load(path: Path, threads: int | None = None) -> Runner:
        session = ort.InferenceSession(str(path), session_options(threads), providers=PROVIDERS[device])
        return OrtRunner(session, bind)
    return load
