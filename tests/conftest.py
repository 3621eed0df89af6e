"""Shared fixtures: synthetic data (see ``synthetic_data.py``), configs, a store per test."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from catalogs import (  # noqa: F401 (hooks: the catalogs run in CI when they changed)
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
)
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from synthetic_data import SyntheticData, write_fashion_mnist

from reproml.config import load_config
from reproml.data import FashionMNISTData, load_fashion_mnist
from reproml_course.checks import EXERCISES


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    """A read-only synthetic data set shared by the whole session."""
    return write_fashion_mnist(tmp_path_factory.mktemp("fashion_mnist"))


@pytest.fixture(scope="session")
def hard_synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    """A synthetic set no model learns perfectly: runs that differ give different metrics,
    which is how a check tells whether a student's program trained what it says."""
    return write_fashion_mnist(
        tmp_path_factory.mktemp("hard_fashion_mnist"), n_train=1000, n_test=600, signal=0.2
    )


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


@pytest.fixture
def evaluate():
    """Run exercise ``id``'s check on the given code; return (passed, message)."""

    def run(id: str, *code):
        result = EXERCISES[id].evaluate(*code)
        return result.passed, result.message

    return run


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A function returning a TCP port free on 127.0.0.1, for a real server."""

    def find() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    return find
