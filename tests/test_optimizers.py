from __future__ import annotations

import pytest
import torch

from reproml.errors import ConfigError
from reproml.optimizers import OPTIMIZERS, build_optimizer


def parameters():
    return torch.nn.Linear(3, 2).parameters()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_builds_each_optimizer_with_its_learning_rate(name):
    optimizer = build_optimizer({"name": name, "lr": 0.123}, parameters())
    assert isinstance(optimizer, OPTIMIZERS[name])
    assert optimizer.param_groups[0]["lr"] == 0.123


def test_betas_from_yaml_lists_become_tuples():
    optimizer = build_optimizer({"name": "adam", "lr": 0.1, "betas": [0.8, 0.9]}, parameters())
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.9)


def test_an_adam_parameter_is_refused_for_sgd():
    with pytest.raises(
        ConfigError, match="optimizer 'sgd' has no parameter betas; it takes: lr, momentum"
    ):
        build_optimizer({"name": "sgd", "lr": 0.1, "betas": [0.9, 0.99]}, parameters())


def test_unknown_optimizer_lists_the_available_ones():
    with pytest.raises(ConfigError, match="Available optimizers: sgd, adam, adamw"):
        build_optimizer({"name": "lbfgs", "lr": 1.0}, parameters())
