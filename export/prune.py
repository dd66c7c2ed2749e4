"""Pruning, torchao style: one verb and a config, `prune(model, Structured(ratio=0.5), train_set)`.

Any model: the layers pruned are its conv and linear modules (export/layers.py), read from the model.
Unstructured: global magnitude pruning over every conv and linear weight (the smallest |w| across
all of them go to zero), a short fine-tune with the mask applied, then the mask is made permanent.
The file does not shrink (dense storage); the zeros only help formats that compress or skip them.
Structured: whole output channels of every conv and hidden units of every linear layer but the
output layer are removed, through Torch-Pruning's dependency graph (it finds which layers are
coupled: a conv's output channels are the next conv's input channels, or 25 inputs of the linear
layer after a 5x5 flatten, and removes them together, so the result stays a working model of
genuinely smaller layers: smaller files, fewer FLOPs). In each group the channels are ranked by
ChannelNormProduct and the weakest go; then a brief fine-tune.
Fine-tuning uses only the training split the checkpoint itself trained on (never val or test),
with the unpruned model as a teacher (knowledge distillation, Hinton et al. 2015: the loss mixes
cross-entropy on the labels with the KL divergence to the teacher's softened logits), Adam with
the learning rate decayed to 0 on a cosine. Measured on the validation split of a 12-epoch MLP
checkpoint (val 98.10%), 800 -> 140 hidden units: 1 epoch at a constant 1e-4 without a teacher
lost 0.44 pp, 2 epochs from 1e-3 with the teacher 0.14 pp (docs/performance.md).
"""
from __future__ import annotations

import copy
import dataclasses
import math

import torch
import torch.nn.functional as F
import torch_pruning as tp
from torch import nn
from torch.nn.utils import prune as torch_prune
from torch.utils.data import TensorDataset

from common.numerics import adam, denormals_flushed
from export import layers
from export.variant import INPUT_SHAPE
from train import data


@dataclasses.dataclass(frozen=True)
class Unstructured:
    sparsity: float = 0.8  # fraction of all conv and linear weights set to zero

    def __post_init__(self) -> None:
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1), got {self.sparsity}")


@dataclasses.dataclass(frozen=True)
class Structured:
    ratio: float = 0.5  # fraction of each conv's channels and each hidden layer's units removed

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio < 1.0:
            raise ValueError(f"ratio must be in [0, 1), got {self.ratio}")


@dataclasses.dataclass(frozen=True)
class FineTune:
    epochs: int = 2         # passes over ~55k images: ~3-10 s each on 2 cores (hidden 100-800)
    lr: float = 1e-3        # training's rate at the start, decayed to 0 on a cosine
    distill: float = 0.7    # weight of the teacher's KL term in the loss (0: labels only)
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size <= 0 or not self.lr > 0 or not 0.0 <= self.distill <= 1.0:
            raise ValueError(f"fine-tune needs epochs >= 0, batch_size > 0, lr > 0, distill in [0, 1]; got {self}")


TEMPERATURE = 4.0  # softens the teacher's logits so the near-zero classes carry its knowledge (Hinton's range 2-20)


def prune(model: nn.Module, config: Unstructured | Structured, train_set: TensorDataset,
          finetune: FineTune = FineTune()) -> tuple[nn.Module, list[str]]:
    """A pruned, fine-tuned copy of `model` (which is left untouched) and notes for the manifest."""
    return _PRUNERS[type(config)](copy.deepcopy(model), model, config, train_set, finetune)


def _unstructured(model: nn.Module, teacher: nn.Module, config: Unstructured, train_set: TensorDataset,
                  finetune: FineTune) -> tuple[nn.Module, list[str]]:
    names = layers.weight_layers(model)
    params = [(model.get_submodule(name), "weight") for name in names]
    torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=config.sparsity)
    # While the mask is attached, weight = weight_orig * mask, so pruned weights get zero gradient.
    _fine_tune(model, train_set, finetune, teacher)
    for module, name in params:
        torch_prune.remove(module, name)  # make permanent: weight becomes a plain masked Parameter
    zeros = sum(int((m.weight == 0).sum()) for m, _ in params)
    total = sum(m.weight.numel() for m, _ in params)
    return model.eval(), [f"unstructured global magnitude pruning: {zeros / total:.1%} of the weights of "
                          f"{'+'.join(names)} are zero (dense storage: the file is not smaller)", _ft_note(finetune)]


def _structured(model: nn.Module, teacher: nn.Module, config: Structured, train_set: TensorDataset,
                finetune: FineTune) -> tuple[nn.Module, list[str]]:
    before = prunable_widths(model)
    graph = tp.DependencyGraph().build_dependency(model.eval(), example_inputs=torch.zeros(2, *INPUT_SHAPE))
    last = model.get_submodule(layers.output_layer(model))
    importance = ChannelNormProduct()
    for group in graph.get_all_groups(ignored_layers=[last], root_module_types=layers.WEIGHT_TYPES):
        scores = importance(group)
        keep = max(1, round(len(scores) * (1.0 - config.ratio)))
        if keep < len(scores):
            group.prune(scores.argsort()[:len(scores) - keep].tolist())  # the weakest channels
    after = prunable_widths(model)
    _fine_tune(model, train_set, finetune, teacher)
    shrunk = ", ".join(f"{name} {before[name]} -> {after[name]}" for name in before)
    return model.eval(), [f"structured pruning (Torch-Pruning dependency graph): channels/units {shrunk} "
                          f"(ranked by ||input weights|| * ||output weights||)", _ft_note(finetune)]


def prunable_widths(model: nn.Module) -> dict[str, int]:
    """Output channels (conv) or units (linear) of every weight layer structured pruning may narrow:
    all but the output layer."""
    return {name: layers.width(model.get_submodule(name)) for name in layers.weight_layers(model)[:-1]}


class ChannelNormProduct(tp.importance.Importance):
    """A channel's importance: the product, over the layers of its dependency group, of the L2 norm
    of its weights in each (a conv's output filter, the next conv's input slice, the linear layer's
    columns after a flatten): how much the channel can carry from its input to the logits. For the
    MLP that is ||fc1 row|| * ||fc2 column||. Torch-Pruning's own GroupMagnitudeImportance sums the
    squared norms (group_reduction="mean"), where the 784-wide input row swamps the 10-wide output
    column; its "prod" reduction keeps one of a flattened channel's 25 columns, not all of them.
    Squared norms are multiplied: the same ranking, without square roots."""

    @torch.no_grad()
    def __call__(self, group) -> torch.Tensor:
        score = None
        for i, (dep, idxs) in enumerate(group):
            layer, fn = dep.layer, dep.pruning_fn
            if not isinstance(layer, layers.WEIGHT_TYPES):
                continue  # ReLU, pooling, flatten: no weights
            if fn in (tp.prune_conv_out_channels, tp.prune_linear_out_channels):
                squares = layer.weight.detach()[idxs].flatten(1).pow(2).sum(1)
            elif fn in (tp.prune_conv_in_channels, tp.prune_linear_in_channels):
                squares = layer.weight.detach().transpose(0, 1)[idxs].flatten(1).pow(2).sum(1)
            else:
                continue
            root = torch.tensor(group[i].root_idxs)  # several inputs per channel after a flatten
            per_channel = torch.zeros(len(group[0].idxs)).scatter_add_(0, root, squares.float())
            score = per_channel if score is None else score * per_channel
        return score


_PRUNERS = {Unstructured: _unstructured, Structured: _structured}


def _fine_tune(model: nn.Module, train_set: TensorDataset, finetune: FineTune, teacher: nn.Module) -> None:
    torch.manual_seed(finetune.seed)
    optimizer = adam([p for p in model.parameters() if p.requires_grad], finetune.lr)
    steps = finetune.epochs * math.ceil(len(train_set) / finetune.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    shuffle = torch.Generator().manual_seed(finetune.seed)
    if finetune.distill:
        # The teacher does not change: its softened outputs for the whole split in one pass, where
        # one per step would run it once per epoch.
        with torch.no_grad():
            images = train_set.tensors[0]
            soft = torch.cat([F.softmax(teacher(x) / TEMPERATURE, dim=1) for x in images.split(1024)])
        train_set = TensorDataset(*train_set.tensors[:2], soft)
    model.train()
    with denormals_flushed():
        for _ in range(finetune.epochs):
            for x, y, *teacher_soft in data.batches(train_set, finetune.batch_size, shuffle):
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                if finetune.distill:
                    kl = F.kl_div(F.log_softmax(logits / TEMPERATURE, dim=1), teacher_soft[0], reduction="batchmean")
                    # T^2 keeps the soft term's gradients on the scale of the hard term's (Hinton et al.)
                    loss = (1 - finetune.distill) * loss + finetune.distill * TEMPERATURE ** 2 * kl
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
    model.eval()


def _ft_note(finetune: FineTune) -> str:
    teacher = f", distilled from the unpruned model (weight {finetune.distill}, T {TEMPERATURE})" if finetune.distill else ""
    return (f"fine-tuned {finetune.epochs} epoch(s) on the training split, Adam lr {finetune.lr} cosine-decayed"
            f"{teacher}")
