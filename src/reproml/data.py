"""Fashion-MNIST as in-memory tensors, with a seeded train/validation split.

torchvision locates, downloads and parses the IDX files. After that the whole data set lives in
memory as uint8 tensors (60,000 x 28 x 28 is 47 MB) and training batches are slices of those
tensors: for models this small, a DataLoader with per-image PIL transforms spends about a third
of the time converting images one by one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from reproml.augment import Augmentation
from reproml.base.errors import DataError
from reproml.base.paths import (
    DATA_DIR_ENV,
    RAW_FILES,
    TEST_FILES,
    TRAIN_FILES,
    raw_folder,
    resolve_data_root,
)

CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

# Pixel statistics of the official 60,000 training images, scaled to [0, 1]. Fixed constants,
# not statistics of whatever subset is loaded, so a model sees the same inputs in every run.
MEAN, STD = 0.2860, 0.3530


@dataclass(frozen=True)
class Split:
    """Images and labels of one split, kept as tensors."""

    images: torch.Tensor  # (n, 28, 28) uint8
    labels: torch.Tensor  # (n,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        augment: Augmentation | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Normalised (inputs, labels) batches; shuffled when a generator is given, and the
        uint8 images passed through ``augment`` (with the same generator) before normalising.

        Batches are made on the device the split lives on, so a split moved to the GPU once
        never copies images again.
        """
        n = len(self)
        if generator is None:
            order = None
        else:
            order = torch.randperm(n, generator=generator).to(self.labels.device)
        for start in range(0, n, batch_size):
            if order is None:
                index = slice(start, start + batch_size)
            else:
                index = order[start : start + batch_size]
            images = self.images[index]
            if augment is not None and generator is not None:
                images = augment(images, generator)
            yield normalize(images), self.labels[index]


@dataclass(frozen=True)
class FashionMNISTData:
    """The three splits and the folder they were read from."""

    train: Split
    val: Split
    test: Split
    root: Path

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the images and labels of every split, in order: the data a run used."""
        splits = (self.train, self.val, self.test)
        return sha256_of(*(t for split in splits for t in (split.images, split.labels)))


def sha256_of(*tensors: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (n, 28, 28) -> standardised float inputs (n, 1, 28, 28)."""
    # One new tensor, then in place: this runs on every batch.
    return images.unsqueeze(1).float().sub_(255.0 * MEAN).div_(255.0 * STD)


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    val_fraction: float = 0.1,
    split_seed: int = 0,
    train_size: int | None = None,
    test_size: int | None = None,
) -> FashionMNISTData:
    """Load Fashion-MNIST into memory and split off a validation set.

    ``train_size`` and ``test_size`` draw seeded random subsets (quick mode). The split depends
    on ``split_seed`` only, so changing the training seed never changes which images are used.
    """
    root = resolve_data_root(root)
    _ensure_files(root, download)
    train_images, train_labels = _read_split(root, train=True)
    test_images, test_labels = _read_split(root, train=False)

    generator = torch.Generator().manual_seed(split_seed)
    train_order = torch.randperm(len(train_labels), generator=generator)[:train_size]
    test_order = torch.randperm(len(test_labels), generator=generator)[:test_size]
    n_val = round(val_fraction * len(train_order))
    val_index, train_index = train_order[:n_val], train_order[n_val:]
    if len(train_index) == 0:
        raise DataError(
            f"No training images left: {len(train_order)} images with val_fraction={val_fraction}."
            " Lower data.val_fraction or raise data.train_size."
        )
    return FashionMNISTData(
        train=Split(train_images[train_index], train_labels[train_index]),
        val=Split(train_images[val_index], train_labels[val_index]),
        test=Split(test_images[test_order], test_labels[test_order]),
        root=root,
    )


def load_data(data_config: Mapping[str, Any]) -> FashionMNISTData:
    """The data set a ``data`` configuration group describes."""
    return load_fashion_mnist(
        data_config.get("root"),
        download=data_config.get("download", True),
        val_fraction=data_config.get("val_fraction", 0.1),
        split_seed=data_config.get("split_seed", 0),
        train_size=data_config.get("train_size"),
        test_size=data_config.get("test_size"),
    )


def load_test_set(root: str | os.PathLike[str] | None = None) -> Split:
    """The whole test file, in file order, never downloaded: what the leaderboard ranks on."""
    root = resolve_data_root(root)
    _ensure_files(root, download=False)
    return Split(*_read_split(root, train=False))


# torchvision is imported where files are read, not at import time: it pulls in torch._dynamo
# and takes seconds to import, which a configuration error or a missing file should not wait for.


def _ensure_files(root: Path, download: bool) -> None:
    raw = raw_folder(root)
    missing = [name for name in RAW_FILES if not (raw / name).is_file()]
    if not missing:
        return
    reason = "downloading is switched off (data.download=false)"
    if download:
        from torchvision.datasets import FashionMNIST

        try:
            FashionMNIST(str(root), train=True, download=True)
            return
        except Exception as error:  # torchvision raises RuntimeError, URLError, OSError...
            reason = "the download failed: " + " ".join(str(error).split())[:200]
    hint = ""
    if all((root / name).is_file() for name in RAW_FILES):
        hint = f" (they are in {root} itself: the data root is the folder above FashionMNIST/raw)"
    raise DataError(
        f"Fashion-MNIST not found in {raw}{hint} and {reason}. "
        f"Put the four files {', '.join(RAW_FILES)} in that folder, "
        f"or set {DATA_DIR_ENV} (or data.root=...) to a folder that holds FashionMNIST/raw/."
    )


def _read_split(root: Path, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import FashionMNIST

    try:
        dataset = FashionMNIST(str(root), train=train, download=False)
    except Exception:
        _raise_for_damaged_file(raw_folder(root), TRAIN_FILES if train else TEST_FILES)
        raise
    images, labels = dataset.data, dataset.targets
    images_file, labels_file = TRAIN_FILES if train else TEST_FILES
    if len(images) != len(labels):
        raise DataError(
            f"{raw_folder(root)} holds {len(images)} images in {images_file} but {len(labels)}"
            f" labels in {labels_file}. {_REPAIR}"
        )
    if tuple(images.shape[1:]) != (28, 28) or len(labels) == 0 or int(labels.max()) >= 10:
        raise DataError(
            f"{raw_folder(root)} does not hold Fashion-MNIST: expected 28x28 images with labels"
            f" 0-9, found images of shape {tuple(images.shape[1:])}. {_REPAIR}"
        )
    return images, labels


_REPAIR = "Delete the damaged files and run again to download them, or copy good ones there."


def _raise_for_damaged_file(raw: Path, names: tuple[str, str]) -> None:
    """Find which file torchvision could not parse and say so in one message."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    for name, reader in zip(names, (read_image_file, read_label_file), strict=True):
        path = raw / name
        try:
            reader(str(path))
        except Exception as error:
            size = path.stat().st_size if path.exists() else 0
            detail = " ".join(str(error).split()) or type(error).__name__
            raise DataError(
                f"Cannot read {path} ({size:,} bytes): it is truncated or not an IDX file"
                f" ({detail}). {_REPAIR}"
            ) from None
