"""Chapter 06's check of the colleague's training made deterministic (6.3)."""

from __future__ import annotations

import random
from typing import Any

from reproml.checks.base import call, exercise, expect


@exercise("6.3", "make the colleague's training deterministic", points=2)
def exercise_6_3(train_small: Any) -> None:
    """random.Random(seed) is a Python generator of your own; torch.random.fork_rng() saves and
    restores torch's global state around a block, inside which torch.manual_seed(seed) is
    harmless; or torch.Generator().manual_seed(seed) passed to torch.randperm / torch.rand
    (generator=...)."""
    import torch

    rng = random.Random()
    images, labels = _separable_images(rng)
    seed, other_seed = rng.sample(range(10_000), 2)
    first = call(train_small, images, labels, seed, what=f"train_small(..., seed={seed})")
    expect(
        isinstance(first, torch.nn.Module),
        f"train_small returned a {type(first).__name__}, not the trained model.",
    )
    torch.rand(3), random.random()  # other code draws in between, as a notebook's cells do
    torch_state, python_state = torch.get_rng_state(), random.getstate()
    second = call(train_small, images, labels, seed, what=f"train_small(..., seed={seed})")
    expect(
        torch.equal(torch.get_rng_state(), torch_state),
        "train_small changed torch's global random state: every cell after it now draws the "
        "same numbers each time, and any other code's draws would shift yours.",
        "draw from a generator of your own, or restore the global state when done.",
    )
    expect(
        random.getstate() == python_state,
        "train_small changed Python's global random state (the `random` module's): other "
        "code drawing from it is affected.",
        "give the shuffling a random.Random of its own.",
    )
    expect(
        _identical(first, second),
        f"two calls with seed {seed} gave different weights.",
        "find every random draw in the function (there are three kinds) and make each come "
        "from the seed.",
    )
    other = call(train_small, images, labels, other_seed, what="train_small(...)")
    expect(
        not _identical(first, other),
        f"seeds {seed} and {other_seed} gave the same weights: the seed is not used.",
        "the seed should decide every random draw.",
    )
    with torch.no_grad():
        accuracy = (first(images.flatten(1)).argmax(1) == labels).float().mean().item()
    expect(
        accuracy > 0.5,
        f"the fixed function's model gets {accuracy:.0%} of its training images right: it "
        "no longer learns.",
        "change where the randomness comes from, not what the function does.",
    )


def _separable_images(rng: random.Random):
    import torch

    generator = torch.Generator().manual_seed(rng.randrange(2**31))
    labels = torch.randint(0, 10, (rng.randint(150, 250),), generator=generator)
    templates = torch.rand(10, 28, 28, generator=generator)
    noise = torch.rand(len(labels), 28, 28, generator=generator)
    return 0.7 * templates[labels] + 0.3 * noise, labels


def _identical(a, b) -> bool:
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
