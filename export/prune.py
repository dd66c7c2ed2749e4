"""Pruning, torchao style: one verb and a config, `prune(model, Structured(ratio=0.5), train_set)`.

Unstructured: global magnitude pruning over fc1 and fc2 weights (the smallest |w| across both
layers go to zero), a short fine-tune with the mask applied, then the mask is made permanent.
The file does not shrink (dense storage); the zeros only help formats that compress or skip them.
Structured: whole hidden units are removed. Units are ranked by ||fc1 row||_2 * ||fc2 column||_2
(how much a unit can contribute to the logits), the top ones are copied into a smaller MLP with
genuinely smaller Linear layers (smaller files, fewer FLOPs), which is then briefly fine-tuned.
Fine-tuning uses only the training split the checkpoint itself trained on (never val or test).
"""
from __future__ import annotations

import copy
import dataclasses

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune
from torch.utils.data import TensorDataset

from train import data
from train.model import MLP


@dataclasses.dataclass(frozen=True)
class Unstructured:
    sparsity: float = 0.8  # fraction of fc1+fc2 weights set to zero

    def __post_init__(self) -> None:
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1), got {self.sparsity}")


@dataclasses.dataclass(frozen=True)
class Structured:
    ratio: float = 0.5  # fraction of hidden units removed

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio < 1.0:
            raise ValueError(f"ratio must be in [0, 1), got {self.ratio}")


@dataclasses.dataclass(frozen=True)
class FineTune:
    epochs: int = 1         # one pass over ~55k images: ~5 s on 2 cores at hidden 800
    lr: float = 1e-4        # 10x below training's: recover from pruning without moving far
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size <= 0 or not self.lr > 0:
            raise ValueError(f"fine-tune needs epochs >= 0, batch_size > 0, lr > 0; got {self}")


def prune(model: MLP, config: Unstructured | Structured, train_set: TensorDataset,
          finetune: FineTune = FineTune()) -> tuple[MLP, list[str]]:
    """A pruned, fine-tuned copy of `model` (which is left untouched) and notes for the manifest."""
    return _PRUNERS[type(config)](copy.deepcopy(model), config, train_set, finetune)


def _unstructured(model: MLP, config: Unstructured, train_set: TensorDataset,
                  finetune: FineTune) -> tuple[MLP, list[str]]:
    params = [(model.fc1, "weight"), (model.fc2, "weight")]
    torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=config.sparsity)
    # While the mask is attached, weight = weight_orig * mask, so pruned weights get zero gradient.
    _fine_tune(model, train_set, finetune)
    for module, name in params:
        torch_prune.remove(module, name)  # make permanent: weight becomes a plain masked Parameter
    zeros = sum(int((m.weight == 0).sum()) for m, _ in params)
    total = sum(m.weight.numel() for m, _ in params)
    return model.eval(), [f"unstructured global magnitude pruning: {zeros / total:.1%} of fc1+fc2 weights are zero "
                          f"(dense storage: the file is not smaller)", _ft_note(finetune)]


def _structured(model: MLP, config: Structured, train_set: TensorDataset,
                finetune: FineTune) -> tuple[MLP, list[str]]:
    hidden = model.fc1.out_features
    keep_n = max(1, round(hidden * (1.0 - config.ratio)))
    with torch.no_grad():
        importance = model.fc1.weight.norm(dim=1) * model.fc2.weight.norm(dim=0)
        keep = importance.topk(keep_n).indices.sort().values
        small = MLP(model.fc1.in_features, keep_n, model.fc2.out_features)
        small.fc1.weight.copy_(model.fc1.weight[keep])
        small.fc1.bias.copy_(model.fc1.bias[keep])
        small.fc2.weight.copy_(model.fc2.weight[:, keep])
        small.fc2.bias.copy_(model.fc2.bias)
    _fine_tune(small, train_set, finetune)
    return small.eval(), [f"structured pruning: hidden units {hidden} -> {keep_n} "
                          f"(ranked by ||fc1 row|| * ||fc2 column||)", _ft_note(finetune)]


_PRUNERS = {Unstructured: _unstructured, Structured: _structured}


def _fine_tune(model: nn.Module, train_set: TensorDataset, finetune: FineTune) -> None:
    torch.manual_seed(finetune.seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=finetune.lr)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(finetune.seed)
    model.train()
    for _ in range(finetune.epochs):
        for x, y in data.batches(train_set, finetune.batch_size, shuffle):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()


def _ft_note(finetune: FineTune) -> str:
    return f"fine-tuned {finetune.epochs} epoch(s) on the training split, Adam lr {finetune.lr}"
