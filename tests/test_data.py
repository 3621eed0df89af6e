from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.datasets import FashionMNIST

from reproml.base.errors import DataError
from reproml.base.paths import DATA_DIR_ENV, resolve_data_root
from reproml.data import MEAN, RAW_FILES, STD, Split, load_fashion_mnist, normalize, raw_folder


def pairs(images: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> set:
    return {(bytes(np.asarray(i).tobytes()), int(y)) for i, y in zip(images, labels, strict=True)}


def test_loads_the_idx_files_as_uint8_tensors(data, synthetic):
    assert data.train.images.dtype == torch.uint8
    assert data.train.images.shape[1:] == (28, 28)
    assert data.train.labels.dtype == torch.int64
    assert data.sizes() == {"train": 360, "val": 40, "test": 200}
    # The split keeps each image with its own label, and train + val is the whole training file.
    loaded = pairs(data.train.images, data.train.labels) | pairs(data.val.images, data.val.labels)
    assert loaded == pairs(synthetic.train_images, synthetic.train_labels)
    assert pairs(data.test.images, data.test.labels) == pairs(
        synthetic.test_images, synthetic.test_labels
    )


def test_validation_split_is_disjoint_and_seeded(synthetic):
    first = load_fashion_mnist(synthetic.root, download=False, split_seed=3)
    again = load_fashion_mnist(synthetic.root, download=False, split_seed=3)
    other = load_fashion_mnist(synthetic.root, download=False, split_seed=4)
    assert torch.equal(first.val.images, again.val.images)
    assert not torch.equal(first.val.images, other.val.images)
    train_rows = pairs(first.train.images, first.train.labels)
    assert not train_rows & pairs(first.val.images, first.val.labels)


def test_subsets_for_quick_mode(synthetic):
    data = load_fashion_mnist(
        synthetic.root, download=False, train_size=100, test_size=30, val_fraction=0.2
    )
    assert data.sizes() == {"train": 80, "val": 20, "test": 30}


def test_no_validation_split(synthetic):
    data = load_fashion_mnist(synthetic.root, download=False, val_fraction=0.0)
    assert data.sizes() == {"train": 400, "val": 0, "test": 200}


def test_too_few_images_to_train_on(synthetic):
    with pytest.raises(DataError, match="No training images left"):
        load_fashion_mnist(synthetic.root, download=False, train_size=1, val_fraction=0.9)


def test_normalize_standardises_with_the_dataset_statistics():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)  # (1, 1, 2)
    out = normalize(images)
    assert out.shape == (1, 1, 1, 2)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.flatten(), torch.tensor([-MEAN / STD, (1 - MEAN) / STD]))


def test_batches_cover_every_image_once(data):
    split = data.train
    seen = [labels for _, labels in split.batches(64, torch.Generator().manual_seed(0))]
    sizes = [len(labels) for labels in seen]
    assert sizes == [64] * 5 + [40]
    assert torch.equal(torch.cat(seen).sort().values, split.labels.sort().values)


def test_shuffled_batches_depend_on_the_generator_only(data):
    def order(seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.cat([labels for _, labels in data.train.batches(50, generator)])

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))
    unshuffled = torch.cat([labels for _, labels in data.train.batches(50)])
    assert torch.equal(unshuffled, data.train.labels)


def test_empty_split_yields_no_batches():
    empty = Split(torch.empty(0, 28, 28, dtype=torch.uint8), torch.empty(0, dtype=torch.long))
    assert list(empty.batches(10)) == []


def test_missing_files_name_the_folder_and_the_four_files(tmp_path):
    with pytest.raises(DataError) as error:
        load_fashion_mnist(tmp_path, download=False)
    message = str(error.value)
    assert str(raw_folder(tmp_path)) in message
    assert all(name in message for name in RAW_FILES)
    assert DATA_DIR_ENV in message
    assert "\n" not in message


def test_failed_download_says_why_and_where_the_files_go(tmp_path, monkeypatch):
    # A real download attempt through torchvision, to a local port where nothing listens.
    monkeypatch.setattr(FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(DataError, match="the download failed") as error:
        load_fashion_mnist(tmp_path, download=True)
    assert str(raw_folder(tmp_path)) in str(error.value)


def test_files_in_the_root_itself_get_a_hint(fresh_synthetic, tmp_path):
    raw = raw_folder(fresh_synthetic.root)
    with pytest.raises(DataError, match="the data root is the folder above FashionMNIST/raw"):
        load_fashion_mnist(raw, download=False)


@pytest.mark.parametrize("name", RAW_FILES)
def test_truncated_file_is_named(fresh_synthetic, name):
    path = raw_folder(fresh_synthetic.root) / name
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated or not an IDX file") as error:
        load_fashion_mnist(fresh_synthetic.root, download=False)
    assert str(path) in str(error.value)


def test_garbage_file_is_named(fresh_synthetic):
    path = raw_folder(fresh_synthetic.root) / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_fashion_mnist(fresh_synthetic.root, download=False)


def test_images_and_labels_of_different_lengths(fresh_synthetic):
    from synthetic_data import write_idx

    write_idx(
        raw_folder(fresh_synthetic.root) / "train-labels-idx1-ubyte",
        fresh_synthetic.train_labels[:-1],
    )
    with pytest.raises(DataError, match=r"400 images .* but 399 labels"):
        load_fashion_mnist(fresh_synthetic.root, download=False)


def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert resolve_data_root() == tmp_path / "from_env"
    assert resolve_data_root(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert resolve_data_root().name == "data"
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root("relative") == tmp_path / "relative"
