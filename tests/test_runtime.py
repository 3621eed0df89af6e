from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from reproml.base.errors import ConfigError
from reproml.models import CNN, MLP
from reproml.runtime import place_model, seed_everything, select_device


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


def test_cnn_on_cpu_is_channels_last_and_computes_the_same():
    torch.manual_seed(0)
    reference = CNN().eval()
    placed = place_model(CNN().eval(), torch.device("cpu"))
    placed.load_state_dict(reference.state_dict())
    conv = placed.features[4].weight  # 64 x 32 x 3 x 3: the layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    images = torch.randn(8, 1, 28, 28)
    torch.testing.assert_close(placed(images), reference(images), rtol=1e-4, atol=1e-5)


def test_models_without_convolutions_are_left_as_they_are():
    mlp = place_model(MLP(), torch.device("cpu"))
    assert all(p.is_contiguous() for p in mlp.parameters())
