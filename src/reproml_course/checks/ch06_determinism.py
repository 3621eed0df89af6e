"""Chapter 06's check of the colleague's training made deterministic (6.3).

The weights say whether two calls agree: the same seed twice (0 included), other code drawing
in between, must give bitwise identical weights; two seeds, different ones; the caller's
global random state (torch's and Python's) is left as it was; and the model still learns.

Equal weights for equal seeds are not enough: a function that seeds its shuffle with a
constant, or no longer shuffles, or no longer drops out, is deterministic too. So the check
also follows the training images into the model (``ch06_followed``): they go in as a tensor
that remembers which rows it holds, and each time rows reach the model (a linear layer), it notes
which images came in what order, which of their pixels dropout zeroed, and the weights the model
started from.
From that, for two seeds: the data is shuffled, in another order each epoch, an order that
depends on the seed; dropout still drops, with masks and initial weights that depend on the seed
(``ch06_randomness``).
"""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import call, exercise, expect
from reproml_course.checks.ch06_randomness import _check_randomness, _identical

SHAPES = [(10,), (10, 28 * 28)]


# The course's own ways to a seeded training: the entry point's seeding of the global state,
# the training loop's batch-order generator.
COURSE_ANSWERS = ("reproml.runtime.seed_everything", "reproml.training.batch_order_generator")


@exercise(
    "6.3", "make the colleague's training deterministic", points=2,
    course_answers=COURSE_ANSWERS, budget=90,  # 1-5 s here, 13 s once on busy cores
)  # fmt: skip
def exercise_6_3(train_small: Any) -> None:
    """random.Random(seed) is a Python generator of your own; torch.random.fork_rng() saves and
    restores torch's global state around a block, inside which torch.manual_seed(seed) is
    harmless; or torch.Generator().manual_seed(seed) passed to torch.randperm / torch.rand
    (generator=...)."""
    import torch

    rng = random.Random()
    images, labels = _separable_images(rng)
    seed, other_seed = rng.sample(range(1, 10_000), 2)
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
    torch.rand(5), random.random()
    zeros = [call(train_small, images, labels, 0, what="train_small(..., seed=0)") for _ in "ab"]
    expect(
        _identical(*zeros),
        "two calls with seed 0 gave different weights.",
        "0 is a seed like any other: make every draw come from it, whatever its value.",
    )
    shapes = sorted(tuple(t.shape) for t in first.state_dict().values())
    expect(
        shapes == SHAPES,
        f"train_small returns a model whose tensors are shaped {shapes}, not the colleague's "
        f"linear layer ({SHAPES}).",
        "change where the randomness comes from, not what the function does.",
    )
    with torch.no_grad():
        accuracy = (first(images.flatten(1)).argmax(1) == labels).float().mean().item()
    expect(
        accuracy > 0.5,
        f"the fixed function's model gets {accuracy:.0%} of its training images right: it "
        "no longer learns.",
        "change where the randomness comes from, not what the function does.",
    )
    _check_randomness(train_small, images, labels, {seed: first, other_seed: other})


def _separable_images(rng: random.Random):
    import torch

    generator = torch.Generator().manual_seed(rng.randrange(2**31))
    labels = torch.randint(0, 10, (rng.randint(150, 250),), generator=generator)
    # Each class a sparse stroke of bright pixels on a dim, noisy background: the colleague's
    # SGD (lr 0.1) learns it every time (1,000 draws: all at 100%). Dense images of the same
    # brightness were learned or not by luck, and failed a right answer about once in 100.
    strokes = (torch.rand(10, 28, 28, generator=generator) > 0.9).float()
    noise = torch.rand(len(labels), 28, 28, generator=generator)
    return 0.01 + 0.8 * strokes[labels] + 0.1 * noise, labels  # every pixel above 0
