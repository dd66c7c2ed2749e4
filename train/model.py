"""The model: the reference recipe's MLP, fc1 -> ReLU -> fc2, unchanged so every export is of it."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    input_size: int = 784   # 28 x 28 pixels, flattened
    hidden_size: int = 800  # 784-800-10 is the classic MLP that reaches ~98.4% on MNIST
    output_size: int = 10   # number of classes; follows the dataset

    def __post_init__(self) -> None:
        for name in ("input_size", "hidden_size", "output_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")


class MLP(nn.Module):
    def __init__(self, input_size: int = 784, hidden_size: int = 800, output_size: int = 10):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Accepts [N, 1, 28, 28] images or [N, 784] rows; flatten(1) is a free view.
        x = x.flatten(1)
        return self.fc2(self.relu(self.fc1(x)))

    @classmethod
    def from_config(cls, cfg: MLPConfig) -> "MLP":
        return cls(cfg.input_size, cfg.hidden_size, cfg.output_size)
