"""Cheap augmentation of uint8 image batches: mirror images and shift them by a few pixels.

With a couple of thousand training images the CNN learns them by heart in a few epochs; seeing
each one mirrored and moved by a pixel or two every epoch is worth more than extra width or
depth (benchmarks/README.md, "The default CNN"). Done on whole batches of uint8 tensors, on the
device the batch lives on: no per-image PIL transform, and draws come from the generator the
training loop passes, so a run stays repeatable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from reproml.base.errors import ConfigError

Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def augmentation(config: Mapping[str, Any] | None) -> Augmentation | None:
    """The augmentation an ``augment`` configuration group describes; None when it does nothing.

    A configuration without the group (an app with its own ``conf/``) trains without it.
    """
    params = {k: v for k, v in (config or {}).items() if k != "name"}
    unknown = sorted(set(params) - {"hflip", "shift"})
    if unknown:
        raise ConfigError(f"augment has no parameter {', '.join(unknown)}; it takes: hflip, shift.")
    hflip, shift = params.get("hflip", False), params.get("shift", 0)
    if not hflip and not shift:
        return None

    def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if hflip:
            images = random_hflip(images, generator)
        if shift:
            images = random_shift(images, shift, generator)
        return images

    return augment


def random_hflip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image (n, h, w) left-right with probability 1/2."""
    flip = torch.rand(len(images), generator=generator).to(images.device) < 0.5
    return torch.where(flip[:, None, None], images.flip(-1), images)


def random_shift(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Move each image (n, h, w) by up to ``shift`` pixels in each direction, filling with 0
    (the background of Fashion-MNIST)."""
    n, height, width = images.shape
    offsets = torch.randint(0, 2 * shift + 1, (2, n), generator=generator).to(images.device)
    padded = F.pad(images, (shift, shift, shift, shift))
    rows = offsets[0, :, None] + torch.arange(height, device=images.device)  # (n, h)
    cols = offsets[1, :, None] + torch.arange(width, device=images.device)  # (n, w)
    batch = torch.arange(n, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]
