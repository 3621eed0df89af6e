from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from reproml.errors import ConfigError
from reproml.runtime import seed_everything, select_device


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(3).tolist()


def test_seed_everything_repeats_every_generator():
    seed_everything(7)
    first = draws()
    seed_everything(7)
    assert draws() == first
    seed_everything(8)
    assert draws() != first
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(7, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()
    seed_everything(7)


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert select_device("auto").type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert select_device("auto").type == "cpu"


def test_forced_cpu():
    assert select_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_device_is_a_clear_error():
    with pytest.raises(ConfigError, match="Device 'cuda' is not available on this machine"):
        select_device("cuda")


def test_unknown_device_name():
    with pytest.raises(ConfigError, match="Unknown device 'gpu'"):
        select_device("gpu")
