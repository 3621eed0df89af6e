"""Chapter 00: a first look at the data.

0.1 counts the labels of several drawn label sets in one run of the check: one with every
class, one without each class in turn (the last one too: that is where counting up to the
largest label seen goes wrong), one of a single class, one of a single label. Each set is
compared with the right counts, and the labels given must come back unchanged.
"""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect


def _label_sets(rng: random.Random, classes: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    """(what the set is, its labels), shuffled: the edges where a mistake shows."""

    def some(n: int, allowed: list[int]) -> list[int]:
        drawn = [*allowed, *(rng.choice(allowed) for _ in range(n))]
        rng.shuffle(drawn)
        return drawn

    def named(label: int) -> str:
        return f"{classes[label]!r} (label {label})"

    every = list(range(len(classes)))
    sets = [("new labels of every class", some(rng.randint(40, 200), every))]
    # The last class absent first: a count that stops at the largest label seen shows there.
    for absent in [every[-1], *rng.sample(every[:-1], len(every) - 1)]:
        others = [c for c in every if c != absent]
        sets.append((f"labels with no {named(absent)}", some(rng.randint(20, 120), others)))
    lonely, single = rng.randrange(len(classes)), rng.randrange(len(classes))
    sets.append((f"labels that are all {named(lonely)}", [lonely] * rng.randint(2, 30)))
    sets.append((f"a single label, {named(single)}", [single]))
    return sets


@exercise(
    "0.1",
    "count the images of each class",
    points=1,
    course_answers=("reproml.plots.plot_class_balance",),  # it counts them, for its bars
    budget=60,
)
def exercise_0_1(class_counts: Any) -> None:
    import torch

    from reproml.data import CLASSES

    for what, drawn in _label_sets(random.Random(), CLASSES):
        _check_one(class_counts, torch.tensor(drawn, dtype=torch.int64), what, CLASSES)


def _check_one(class_counts: Any, labels, what: str, classes: tuple[str, ...]) -> None:
    import torch

    expected = {name: int((labels == i).sum()) for i, name in enumerate(classes)}
    given = labels.clone()
    counts = call(class_counts, given, what="class_counts(labels)")
    expect(
        torch.equal(given, labels),
        f"class_counts changed the labels it was given (on {what}).",
        "count without modifying the tensor: the caller still needs it.",
    )
    expect(
        isinstance(counts, dict),
        f"class_counts returned a {type(counts).__name__}, not a dict.",
        "build a dict that maps each class name to a number.",
    )
    keys = list(counts)
    if keys != list(classes):
        missing = [name for name in classes if name not in counts]
        if set(keys) == set(classes):
            problem = "the keys are the class names, but not in label order"
        elif missing and all(k in classes for k in keys):
            problem = f"the keys miss {', '.join(map(repr, missing[:3]))}"
        else:
            problem = f"the keys should be the {len(classes)} class names, got {keys[:4]}..."
        raise CheckFailed(
            f"{problem} (on {what}).",
            "every class gets an entry, in label order, even one with no image: the label of "
            "a class is its position in CLASSES.",
        )
    wrong = [name for name in classes if counts[name] != expected[name]]
    expect(
        not wrong,
        f"the counts of {', '.join(map(repr, wrong[:3]))}{' and more' if len(wrong) > 3 else ''}"
        f" are wrong (on {what}, {len(labels)} of them).",
        "count the labels equal to each class index in the tensor given; a class with no "
        "image counts 0.",
    )
    odd = {type(v).__name__ for v in counts.values() if type(v) is not int}
    expect(
        not odd,
        f"the counts should be plain Python ints, got {', '.join(sorted(odd))}.",
        "turn a one-element tensor into a number with .item() or int(...).",
    )
