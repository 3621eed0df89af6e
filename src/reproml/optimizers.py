"""Optimizers built from configuration (``conf/optimizer/*.yaml``).

Each option lists only its own hyperparameters: SGD has momentum, Adam has betas. Passing one
optimizer's parameter to another is an error rather than something silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import torch

from reproml.errors import ConfigError
from reproml.models import checked_params

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


OptimizerFactory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]


def build_optimizer(
    config: Mapping[str, Any], parameters: Iterable[torch.nn.Parameter]
) -> torch.optim.Optimizer:
    """Build the optimizer named by ``config["name"]`` over ``parameters``."""
    return optimizer_factory(config)(parameters)


def optimizer_factory(config: Mapping[str, Any]) -> OptimizerFactory:
    """Check the configuration now, build the optimizer later from the model's parameters.

    Checking is instant; the first optimizer a process builds takes seconds (torch imports its
    compiler stack), so the training loop builds it only once the data has been read.
    """
    params = dict(config)
    name = params.pop("name", None)
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"Unknown optimizer {name!r}. Available optimizers: {', '.join(OPTIMIZERS)}"
            " (set optimizer=<name>)."
        )
    if isinstance(params.get("betas"), list):
        params["betas"] = tuple(params["betas"])
    factory = OPTIMIZERS[name]
    return partial(factory, **checked_params(factory, params, f"optimizer {name!r}"))
