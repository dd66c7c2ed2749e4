"""ONNX Runtime with I/O binding: the per-call overhead of `session.run`, taken out.

`session.run(names, {name: array})` converts the input dict to OrtValues, allocates the
output and wraps it in a new numpy array on every call: several microseconds, which at
batch 1 is a large share of a ~30-60 us inference. Here the input and output buffers of
each batch size are allocated once and bound once (OrtValues viewing numpy arrays);
a call copies x into the input buffer, runs, and returns a copy of the output buffer (the
copy is 40 bytes per image, and keeps the next call from overwriting what the caller holds).
The measured effect of each setting is in docs/performance.md.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from export.variant import Runner, check_input


def session_options(threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # a 2-layer chain has no parallel branches
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    return options


class BoundOrtRunner:
    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.classes = session.get_outputs()[0].shape[-1]
        self.bound: dict[int, tuple[ort.IOBinding, np.ndarray, np.ndarray]] = {}

    def _binding(self, batch: int) -> tuple[ort.IOBinding, np.ndarray, np.ndarray]:
        """Buffers and binding for one batch size, made on the first call at that size."""
        if batch not in self.bound:
            x_buf = np.zeros((batch, 1, 28, 28), dtype=np.float32)
            y_buf = np.zeros((batch, self.classes), dtype=np.float32)
            binding = self.session.io_binding()
            binding.bind_ortvalue_input(self.input_name, ort.OrtValue.ortvalue_from_numpy(x_buf))
            binding.bind_ortvalue_output(self.output_name, ort.OrtValue.ortvalue_from_numpy(y_buf))
            self.bound[batch] = (binding, x_buf, y_buf)
        return self.bound[batch]

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = check_input(x)
        binding, x_buf, y_buf = self._binding(x.shape[0])
        np.copyto(x_buf, x)
        self.session.run_with_iobinding(binding)
        return y_buf.copy()


def load(path: Path, threads: int | None = None) -> Runner:
    session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    return BoundOrtRunner(session)
