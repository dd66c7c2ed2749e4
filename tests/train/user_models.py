"""Model classes "of a user", named by import path in the tests (tests.train.user_models:TinyNet):
one that works through every stage, and one for each way a class can be bad input."""
from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """A small conv net whose layers are not called fc1/fc2, nested in a Sequential: a model the
    toolkit knows nothing about. `num_classes` is filled in from the dataset."""

    def __init__(self, width: int = 4, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, width, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2))  # 28 -> 13 -> 6
        self.hidden = nn.Linear(width * 36, 32)
        self.head = nn.Linear(32, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.hidden(self.features(images).flatten(1))))


class TinyNetWider(TinyNet):
    """TinyNet after its author changed its layers: a checkpoint of TinyNet no longer fits."""

    def __init__(self, width: int = 4, num_classes: int = 10):
        super().__init__(width, num_classes)
        self.hidden = nn.Linear(width * 36, 48)
        self.head = nn.Linear(48, num_classes)


class FiveScores(nn.Module):
    """Returns 5 scores per image on a 10-class dataset."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 5)

    def forward(self, x):
        return self.fc(x.flatten(1))


class NeedsDepth(nn.Module):
    """Its constructor requires an argument the config does not give."""

    def __init__(self, depth: int, num_classes: int = 10):
        super().__init__()
        self.fc = nn.Linear(784, num_classes)

    def forward(self, x):
        return self.fc(x.flatten(1))


class DataDependent(nn.Module):
    """Python control flow on the data: runs eagerly, torch.export cannot trace it."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.fc = nn.Linear(784, num_classes)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x.flatten(1))
        return -self.fc(x.flatten(1))


NOT_A_CLASS = 3


class ErfInv(nn.Module):
    """Uses torch.erfinv: torch.export and TorchScript take it, the ONNX exporter has no function for
    it and it is not Core ATen, so ExecuTorch cannot lower it."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.fc = nn.Linear(784, num_classes)

    def forward(self, x):
        return self.fc(torch.erfinv(x.clamp(-0.9, 0.9)).flatten(1))
