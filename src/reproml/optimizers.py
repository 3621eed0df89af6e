"""Optimizers built from configuration (``conf/optimizer/*.yaml``).

Each option lists only its own hyperparameters: SGD has momentum, Adam has betas. Passing one
optimizer's parameter to another is an error rather than something silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from reproml.errors import ConfigError
from reproml.registry import registered

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
    if isinstance(params.get("betas"), list):
        params["betas"] = tuple(params["betas"])
    return registered(OPTIMIZERS, params, "optimizer", "optimizer", given_later=("params",))


def build_lr_schedule(
    optimizer: torch.optim.Optimizer, name: str, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """``cosine`` decays the learning rate to zero over the run, one step per batch.

    On small data a constant rate makes the last epochs jump around; decaying it lets the
    weights settle, which is worth about a point of test accuracy on the course's subset.
    """
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    raise ConfigError(f"Unknown trainer.lr_schedule {name!r}: use cosine or constant.")
