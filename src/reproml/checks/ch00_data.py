"""Chapter 00: a first look at the data."""

from __future__ import annotations

import random
from typing import Any

from reproml.checks.base import call, exercise, expect


@exercise("0.1", "count the images of each class", points=1)
def exercise_0_1(class_counts: Any) -> None:
    import torch

    from reproml.data import CLASSES

    rng = random.Random()
    labels = torch.tensor([rng.randrange(len(CLASSES)) for _ in range(rng.randint(50, 300))])
    labels[labels == rng.randrange(1, len(CLASSES))] = 0  # one class absent: it must count 0
    expected = {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}
    counts = call(class_counts, labels, what="class_counts(labels)")
    expect(
        isinstance(counts, dict),
        f"class_counts returned a {type(counts).__name__}, not a dict.",
        "build a dict that maps each class name to a number.",
    )
    expect(
        list(counts) == list(CLASSES),
        f"the keys should be the 10 class names in label order, got {list(counts)[:4]}...",
        "loop over CLASSES with enumerate: the label of a class is its position.",
    )
    wrong = [name for name in CLASSES if counts[name] != expected[name]]
    expect(
        not wrong,
        f"the counts of {', '.join(wrong)} are wrong (checked on {len(labels)} new labels).",
        "count the labels equal to each class index; a class with no image counts 0.",
    )
    expect(
        all(type(v) is int for v in counts.values()),
        "the counts should be plain Python ints, not tensors.",
        "turn a one-element tensor into a number with .item() or int(...).",
    )
