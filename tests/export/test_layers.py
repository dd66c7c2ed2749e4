"""export/layers.py: a model's conv and linear layers, and its output layer, read from the model."""
from __future__ import annotations

import pytest
from torch import nn

from export import layers
from tests.train.user_models import TinyNet
from train.model import CNN, MLP


def test_layers_in_call_order_and_the_output_layer():
    assert layers.weight_layers(MLP()) == ["fc1", "fc2"] and layers.output_layer(CNN()) == "fc2"
    assert layers.weight_layers(TinyNet()) == ["features.0", "hidden", "head"]


def test_a_model_without_conv_or_linear_layers_is_named():
    with pytest.raises(ValueError, match="calls no conv or linear layer"):
        layers.weight_layers(nn.Sequential(nn.Flatten(), nn.ReLU()))
