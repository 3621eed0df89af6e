"""A small synthetic Fashion-MNIST written in torchvision's raw IDX layout.

The files go through torchvision's real parser, so tests exercise the same code path as the
real data set, offline and without ``../shared/data``. A plain module rather than part of
``conftest.py`` so that a test, or ``.ci/run``, can import it by name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reproml.data import raw_folder

N_TRAIN, N_TEST = 400, 200


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format (big-endian header: magic, then each dimension)."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_images(labels: np.ndarray, rng: np.random.Generator, signal: float = 0.6) -> np.ndarray:
    """Learnable images: a fixed random template per class, blended with per-image noise
    (``signal`` is the template's share: 0.6 is learned perfectly, 0.1 is not)."""
    templates = np.random.default_rng(1234).integers(0, 256, size=(10, 28, 28))
    noise = rng.integers(0, 256, size=(len(labels), 28, 28))
    return (signal * templates[labels] + (1 - signal) * noise).astype(np.uint8)


@dataclass(frozen=True)
class SyntheticData:
    root: Path
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def write_fashion_mnist(
    root: Path, n_train: int = N_TRAIN, n_test: int = N_TEST, signal: float = 0.6
) -> SyntheticData:
    rng = np.random.default_rng(0)
    train_labels = np.arange(n_train) % 10
    test_labels = np.arange(n_test) % 10
    rng.shuffle(train_labels)
    rng.shuffle(test_labels)
    data = SyntheticData(
        root,
        make_images(train_labels, rng, signal),
        train_labels,
        make_images(test_labels, rng, signal),
        test_labels,
    )
    raw = raw_folder(root)
    raw.mkdir(parents=True, exist_ok=True)
    write_idx(raw / "train-images-idx3-ubyte", data.train_images)
    write_idx(raw / "train-labels-idx1-ubyte", data.train_labels)
    write_idx(raw / "t10k-images-idx3-ubyte", data.test_images)
    write_idx(raw / "t10k-labels-idx1-ubyte", data.test_labels)
    return data
