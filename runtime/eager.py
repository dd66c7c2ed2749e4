"""The baseline every row is compared with: the fp32 checkpoint run eagerly, as the seed runs it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from export.variant import Runner, check_input
from train.checkpoint import load_model


class EagerRunner:
    """model(x) under torch.no_grad(), numpy in and out like every other runner."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model.eval()

    def predict(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():  # the seed's test loop; inference_mode is measured in docs/performance.md
            return self.model(torch.from_numpy(check_input(x))).numpy()


def load(path: Path, threads: int | None = None) -> Runner:
    """`path` is the checkpoint (checkpoints/mlp.pt). torch's thread count is per process."""
    if threads:
        torch.set_num_threads(threads)
    model, _ = load_model(Path(path))
    return EagerRunner(model)
