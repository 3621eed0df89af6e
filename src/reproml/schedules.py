"""Learning-rate schedules, stepped once per batch (``conf/scheduler/*.yaml``).

Each takes the optimizer and the run's number of steps, so that every option is called alike.
On small data a constant rate makes the last epochs jump around; decaying it lets the weights
settle, worth about a point of test accuracy on the course's subset (benchmarks/README.md).
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LRScheduler


def cosine(optimizer: torch.optim.Optimizer, total_steps: int) -> LRScheduler:
    """Decay the learning rate to zero over ``total_steps``, along half a cosine."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))


def constant(optimizer: torch.optim.Optimizer, total_steps: int) -> LRScheduler:
    """Keep the rate the optimizer starts with."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _unchanged)


def _unchanged(step: int) -> float:
    return 1.0
