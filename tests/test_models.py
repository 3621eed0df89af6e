from __future__ import annotations

import pytest
import torch

from reproml.base.errors import ConfigError
from reproml.config import option
from reproml.models import CNN, MLP, LogisticRegression, count_parameters
from reproml.parts import build_part
from reproml.schema import TARGETS


def build_model(config):
    return build_part(config, "model")


@pytest.mark.parametrize("model", [LogisticRegression, MLP, CNN])
def test_every_model_maps_images_to_ten_logits(model):
    assert model()(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("name", sorted(TARGETS["model"]))
def test_every_model_option_is_built_from_conf(name):
    model = build_model(option("model", name))
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
    model = build_model({"_target_": "reproml.models.MLP", "hidden_sizes": [32], "dropout": 0.5})
    linear_layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in linear_layers] == [32, 10]
    assert model.net[3].p == 0.5


def test_cnn_options_reach_the_layers():
    model = build_model({**option("model", "cnn"), "channels": [4, 8], "hidden": 16})
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8]
    assert model.classifier[-1].in_features == 16


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(
        ConfigError,
        match=r"Cannot build model 'reproml\.models\.ResNet'.*The course's models: "
        r"cnn \(reproml\.models\.CNN\), logreg \(reproml\.models\.LogisticRegression\), "
        r"mlp \(reproml\.models\.MLP\)",
    ):
        build_model({"_target_": "reproml.models.ResNet"})


def test_unknown_parameter_names_the_accepted_ones():
    with pytest.raises(
        ConfigError,
        match="model 'cnn' has no parameter hidden_sizes; it takes: channels, hidden, dropout",
    ):
        build_part({**option("model", "cnn"), "hidden_sizes": [10]}, "model", _partial_=True)
