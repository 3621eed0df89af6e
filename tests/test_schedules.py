"""The learning-rate schedules of ``conf/scheduler/``, stepped once per batch."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from reproml.schedules import constant, cosine


def sgd(lr: float = 0.1) -> torch.optim.SGD:
    return torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=lr)


def rates(schedule_of, total_steps: int, lr: float = 0.1) -> list[float]:
    """The rate each step trains with, then the one after the last step."""
    optimizer = sgd(lr)
    schedule = schedule_of(optimizer, total_steps)
    seen = []
    for _ in range(total_steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return [*seen, optimizer.param_groups[0]["lr"]]


def test_cosine_decays_to_zero_along_half_a_cosine():
    seen = rates(cosine, 8)
    expected = [0.1 * (1 + math.cos(math.pi * step / 8)) / 2 for step in range(9)]
    assert seen == pytest.approx(expected, abs=1e-12)
    assert seen[0] == 0.1 and seen[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(a > b for a, b in itertools.pairwise(seen))


def test_cosine_of_a_run_without_steps_is_still_a_schedule():
    optimizer = sgd()
    schedule = cosine(optimizer, 0)  # T_max=0 would divide by zero
    assert schedule.T_max == 1
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_constant_keeps_the_rate_the_optimizer_starts_with():
    assert rates(constant, 5, lr=0.03) == [0.03] * 6


@pytest.mark.parametrize("schedule_of", [cosine, constant])
def test_every_schedule_is_a_torch_scheduler_on_the_optimizer_it_is_given(schedule_of):
    optimizer = sgd()
    schedule = schedule_of(optimizer, 10)
    assert isinstance(schedule, torch.optim.lr_scheduler.LRScheduler)
    assert schedule.optimizer is optimizer
