"""Where the project keeps things: the repository, its Hydra configuration and the data.

An editable install (``uv sync``) runs from the repository, so ``conf/`` and ``data/`` sit at its
root, where students see them. A plain ``pip install`` (Colab) has no repository: the
configuration then comes from the copy packaged inside ``reproml`` and the data goes to
``./data`` under the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "REPROML_DATA_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/reproml


def repository_root() -> Path | None:
    """The repository this package runs from, or None for a non-editable install."""
    candidate = _PACKAGE_DIR.parents[1]  # src/reproml -> repository root
    if (candidate / "pyproject.toml").is_file() and (candidate / "conf").is_dir():
        return candidate
    return None


def config_dir() -> Path:
    """The absolute path of the Hydra configuration folder (``conf/``)."""
    root = repository_root()
    return root / "conf" if root is not None else _PACKAGE_DIR / "conf"


TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
RAW_FILES = TRAIN_FILES + TEST_FILES


def raw_folder(root: Path) -> Path:
    """Where torchvision keeps the four IDX files under a data root."""
    return root / "FashionMNIST" / "raw"


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: the argument, else ``$REPROML_DATA_DIR``, else ``data/`` in the repository.

    Relative paths are taken from the working directory (Hydra does not change it).
    """
    if root is None or str(root) == "":
        root = os.environ.get(DATA_DIR_ENV) or None
    if root is None:
        repo = repository_root()
        root = repo / "data" if repo is not None else Path("data")
    return Path(root).expanduser().resolve()
