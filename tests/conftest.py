"""Shared fixtures: a small synthetic Fashion-MNIST written in torchvision's raw IDX layout.

The files go through torchvision's real parser, so tests exercise the same code path as the
real data set, offline and without ``../shared/data``.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from reproml.config import load_config
from reproml.data import FashionMNISTData, load_fashion_mnist, raw_folder

N_TRAIN, N_TEST = 400, 200


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (big-endian header: magic, then each dimension)."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Learnable images: a fixed random template per class, blended with per-image noise."""
    templates = np.random.default_rng(1234).integers(0, 256, size=(10, 28, 28))
    noise = rng.integers(0, 256, size=(len(labels), 28, 28))
    return (0.6 * templates[labels] + 0.4 * noise).astype(np.uint8)


@dataclass(frozen=True)
class SyntheticData:
    root: Path
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def write_fashion_mnist(root: Path, n_train: int = N_TRAIN, n_test: int = N_TEST) -> SyntheticData:
    rng = np.random.default_rng(0)
    train_labels = np.arange(n_train) % 10
    test_labels = np.arange(n_test) % 10
    rng.shuffle(train_labels)
    rng.shuffle(test_labels)
    data = SyntheticData(
        root,
        make_images(train_labels, rng),
        train_labels,
        make_images(test_labels, rng),
        test_labels,
    )
    raw = raw_folder(root)
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", data.train_images)
    write_idx(raw / "train-labels-idx1-ubyte", data.train_labels)
    write_idx(raw / "t10k-images-idx3-ubyte", data.test_images)
    write_idx(raw / "t10k-labels-idx1-ubyte", data.test_labels)
    return data


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    """A read-only synthetic data set shared by the whole session."""
    return write_fashion_mnist(tmp_path_factory.mktemp("fashion_mnist"))


@pytest.fixture
def fresh_synthetic(tmp_path: Path) -> SyntheticData:
    """A synthetic data set of the test's own, to damage at will."""
    return write_fashion_mnist(tmp_path / "data")


@pytest.fixture(scope="session")
def data(synthetic: SyntheticData) -> FashionMNISTData:
    return load_fashion_mnist(synthetic.root, download=False)


@pytest.fixture
def make_config(synthetic: SyntheticData) -> Callable[..., DictConfig]:
    """Compose the real configuration, shrunk for tests: quick mode, CPU, no progress bar."""

    def make(overrides: Sequence[str] = ()) -> DictConfig:
        base = [
            "experiment=quick",
            f"data.root={synthetic.root}",
            "data.download=false",
            "trainer.device=cpu",
            "trainer.progress=false",
        ]
        return load_config([*base, *overrides])

    return make


@pytest.fixture(autouse=True)
def _clear_hydra():
    yield
    GlobalHydra.instance().clear()


@pytest.fixture(autouse=True)
def mlflow_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test, and every process it starts, logs to a SQLite store of its own."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    if "mlflow" in sys.modules:  # a URI set by an earlier test outranks the variable
        sys.modules["mlflow"].set_tracking_uri(uri)
    yield uri
    if "mlflow" in sys.modules:  # never leave a run active for the next test
        import mlflow

        while mlflow.active_run():
            mlflow.end_run("KILLED")


@pytest.fixture
def tracked_config(make_config, tmp_path: Path) -> Callable[..., DictConfig]:
    """The test configuration with a tracking option: ``tracked_config("txt", ...)``."""

    def make(tracking: str, overrides: Sequence[str] = ()) -> DictConfig:
        extra = [f"tracking.folder={tmp_path / 'results'}"] if tracking == "txt" else []
        return make_config([f"tracking={tracking}", *extra, *overrides])

    return make
