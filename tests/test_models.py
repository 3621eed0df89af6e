from __future__ import annotations

import pytest
import torch

from reproml.errors import ConfigError
from reproml.models import CNN, MLP, MODELS, LogisticRegression, build_model, count_parameters


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_maps_images_to_ten_logits(name):
    model = build_model({"name": name})
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_parameter_counts():
    assert count_parameters(LogisticRegression()) == 784 * 10 + 10
    assert count_parameters(MLP(hidden_sizes=[256, 128])) == (
        (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)
    )
    conv = 1 * 32 * 9 + 2 * 32 + 32 * 64 * 9 + 2 * 64  # bias-free convs + batch-norm scale/shift
    dense = 64 * 7 * 7 * 128 + 128 + 128 * 10 + 10
    assert count_parameters(CNN(channels=[32, 64], hidden=128)) == conv + dense


def test_cnn_depth_follows_the_channel_list():
    model = CNN(channels=[8, 16, 32], hidden=16)  # 28 -> 14 -> 7 -> 3
    assert model.features(torch.zeros(2, 1, 28, 28)).shape == (2, 32, 3, 3)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_build_passes_the_parameters():
    model = build_model({"name": "mlp", "hidden_sizes": [32], "dropout": 0.5})
    linear_layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in linear_layers] == [32, 10]
    assert model.net[3].p == 0.5


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(
        ConfigError, match=r"Unknown model 'resnet'\. Available models: logreg, mlp, cnn"
    ):
        build_model({"name": "resnet"})


def test_unknown_parameter_names_the_accepted_ones():
    with pytest.raises(
        ConfigError,
        match="model 'cnn' has no parameter hidden_sizes; it takes: channels, hidden, dropout",
    ):
        build_model({"name": "cnn", "hidden_sizes": [10]})
