"""ExecuTorch (.pte, XNNPACK or portable) through its Python runtime, with as little as possible per call.

executorch.runtime documents `Method.execute(inputs)`: torch tensors in, a list of output
tensors out. It calls the pybinding `ExecuTorchMethod(inputs, clone_outputs=True)`
(executorch/extension/pybindings/pybindings.pyi), which copies every output into a newly
allocated torch tensor; at batch 1 that allocation is a few microseconds of a ~10-20 us int8
inference. Per batch size, this runner allocates once: an input tensor (filled by np.copyto
through its numpy view) and a numpy view of the program's planned output memory. A call is
then: validate, copy the images in, run with clone_outputs=False, copy the logits out (40 bytes
per image, so the caller keeps them while the next call overwrites the planned memory). The
input is validated by the buffer lookup itself (its shape) and np.copyto(casting="no") (its
dtype); anything unexpected goes through export.variant.check_input for its error. A batch
over the program's planned bound runs in chunks whose logits are concatenated; one that fits is
not split. Python work right after a native call runs on cold caches (measured here: np.copyto
0.7 us alone, 1.7 us right after the call), so every operation per call counts.
Loading, thread count and the threadpool guard are export.executorch.load's. Measured
before/after in docs/performance.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from export import executorch
from export.variant import Runner, check_input

Buffers = tuple[tuple[torch.Tensor], np.ndarray, np.ndarray]  # (inputs, input view, output view)


class ExecuTorchRunner:
    def __init__(self, loaded) -> None:
        self.loaded = loaded  # export's runner: holds the program alive and marks the threadpool in use
        self.call = loaded.method._method  # the pybinding behind Method.execute
        self.max_batch = loaded.max_batch
        self.buffers: dict[tuple[int, ...], Buffers] = {}  # by input shape

    def _bind(self, shape: tuple[int, ...]) -> Buffers:
        """Input tensor and planned-output view of one batch size, made on the first call at that size."""
        tensor = torch.zeros(shape, dtype=torch.float32)
        first = self.call((tensor,), False)[0]
        again = self.call((tensor,), False)[0]
        if first.data_ptr() != again.data_ptr():  # memory planning is static: this never moves
            raise RuntimeError(f"ExecuTorch returned batch-{shape[0]} outputs at two addresses; "
                               f"the planned-output view cannot be used")
        self.buffers[shape] = ((tensor,), tensor.numpy(), again.numpy())
        return self.buffers[shape]

    def predict(self, x: np.ndarray) -> np.ndarray:
        try:  # hot path: a float32 batch of a size seen before (casting="no" refuses any other dtype)
            inputs, x_view, y_view = self.buffers[x.shape]
            np.copyto(x_view, x, casting="no")
        except (AttributeError, KeyError, TypeError):
            return self._predict_other(x)
        self.call(inputs, False)  # False: clone_outputs; the logits land in y_view
        return y_view.copy()

    def _predict_other(self, x: np.ndarray) -> np.ndarray:
        """Bad input (check_input says what is wrong), a new batch size, or a batch over the planned bound."""
        x = check_input(x)
        if x.shape[0] > self.max_batch:
            return np.concatenate([self.predict(x[i:i + self.max_batch]) for i in range(0, len(x), self.max_batch)])
        self._bind(x.shape)
        return self.predict(x)

    def raw(self, x: np.ndarray) -> Callable[[np.ndarray], object]:
        """ExecuTorch's documented call, `method.execute([tensor])`, on a tensor made once."""
        inputs = [torch.from_numpy(check_input(x).copy())]
        execute = self.loaded.method.execute
        return lambda _: execute(inputs)


def load(path: Path, threads: int | None = None) -> Runner:
    return ExecuTorchRunner(executorch.load(Path(path), threads=threads))
