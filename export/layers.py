"""What the export stage needs to know about a model's layers, read from the model itself.

Weight layers are its nn.Conv1d/2d and nn.Linear modules (what pruning and int8 act on), named as
in `model.named_modules()` (e.g. "fc2", "features.0"), in the order forward calls them; the last
one called is the output layer (the one int8 recipes may leave in fp32, and that structured
pruning never narrows: its outputs are the class scores).
"""
from __future__ import annotations

import torch
from torch import nn

from export.variant import INPUT_SHAPE

WEIGHT_TYPES = (nn.Conv1d, nn.Conv2d, nn.Linear)


@torch.no_grad()
def weight_layers(model: nn.Module) -> list[str]:
    """Names of the conv and linear modules, in the order one forward on a probe batch calls them."""
    names = {m: n for n, m in model.named_modules() if isinstance(m, WEIGHT_TYPES)}
    order: list[str] = []
    hooks = [m.register_forward_hook(lambda m, args, out: order.append(names[m])) for m in names]
    try:
        model.eval()(torch.zeros(2, *INPUT_SHAPE))
    finally:
        for h in hooks:
            h.remove()
    called = list(dict.fromkeys(order))  # first call of each, in order
    if not called:
        raise ValueError(f"{type(model).__name__} calls no conv or linear layer; nothing to prune or quantize")
    return called


def output_layer(model: nn.Module) -> str:
    """The conv or linear layer forward calls last: the one that makes the logits."""
    return weight_layers(model)[-1]


def width(module: nn.Module) -> int:
    """Output channels of a conv, output units of a linear layer."""
    return module.out_channels if isinstance(module, (nn.Conv1d, nn.Conv2d)) else module.out_features
