from __future__ import annotations

import pytest
import torch

from reproml.augment import augmentation, random_hflip, random_shift
from reproml.base.errors import ConfigError
from reproml.training import train


def images(n: int = 64) -> torch.Tensor:
    """Distinct images with an empty two-pixel border, as Fashion-MNIST's mostly are."""
    generator = torch.Generator().manual_seed(0)
    batch = torch.zeros(n, 28, 28, dtype=torch.uint8)
    batch[:, 2:-2, 2:-2] = torch.randint(1, 256, (n, 24, 24), generator=generator)
    return batch


def test_a_flip_mirrors_about_half_the_images_and_leaves_the_rest():
    batch = images(400)
    flipped = random_hflip(batch, torch.Generator().manual_seed(1))
    mirrored = [torch.equal(a, b.flip(-1)) for a, b in zip(flipped, batch, strict=True)]
    unchanged = [torch.equal(a, b) for a, b in zip(flipped, batch, strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 150 < sum(mirrored) < 250


def test_a_shift_moves_each_image_by_at_most_the_given_pixels():
    batch = images()
    shifted = random_shift(batch, 2, torch.Generator().manual_seed(1))
    assert shifted.shape == batch.shape and shifted.dtype == torch.uint8
    moves = set()
    for out, original in zip(shifted, batch, strict=True):
        found = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(out, torch.roll(original, (dy, dx), dims=(0, 1)))
        ]  # the border is empty, so a roll is a shift that fills with zeros
        assert found, "every image is its original moved by at most 2 pixels"
        moves.add(found[0])
    assert len(moves) > 10  # images move independently


def test_the_same_generator_seed_gives_the_same_augmentation():
    augment = augmentation({"hflip": True, "shift": 1})
    first = augment(images(), torch.Generator().manual_seed(3))
    again = augment(images(), torch.Generator().manual_seed(3))
    other = augment(images(), torch.Generator().manual_seed(4))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_no_augmentation_unless_asked():
    assert augmentation(None) is None
    assert augmentation({"hflip": False, "shift": 0}) is None


def test_an_unknown_parameter_is_refused():
    with pytest.raises(ConfigError, match="augment has no parameter rotate; it takes: hflip"):
        augmentation({"hflip": True, "rotate": 10})


def test_augmented_training_is_repeatable_and_differs_from_plain(make_config, data):
    augmented = ["model=cnn", "augment.hflip=true", "augment.shift=1"]
    first = train(make_config(augmented), data=data)
    again = train(make_config(augmented), data=data)
    plain = train(make_config(["model=cnn", "augment=none"]), data=data)
    assert first.metrics == again.metrics
    assert first.history[0].train_loss != plain.history[0].train_loss
