"""Chapter 00's check (0.1), against the mistakes students make when counting labels.

Plausible mistakes, each written below as a wrong answer the check must reject:
- ``torch.bincount`` without ``minlength``: right until the last class is absent;
- the classes found by ``unique`` (or a ``Counter``): an absent class has no entry;
- the number of classes taken as the largest label seen, plus one;
- tensors, or floats (``torch.histc``), as the counts instead of ints;
- the class names sorted, or the labels numbered from 1;
- the notebook's own training labels counted, whatever labels are given;
- the first answer cached: right once, wrong for the next set of labels;
- the last label dropped (an off-by-one in a loop over positions);
- fractions instead of counts;
- the labels sorted in place, which changes the caller's tensor.
"""

from collections import Counter

import pytest
import torch

from reproml.data import CLASSES


def right(labels):
    return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}


def with_bincount(labels):  # also right
    return dict(zip(CLASSES, torch.bincount(labels, minlength=len(CLASSES)).tolist(), strict=True))


def bincount_without_minlength(labels):
    return dict(zip(CLASSES, torch.bincount(labels).tolist(), strict=False))


def skips_absent_classes(labels):
    return {CLASSES[int(k)]: int((labels == k).sum()) for k in labels.unique()}


def counter(labels):
    counts = Counter(labels.tolist())
    return {CLASSES[k]: counts[k] for k in sorted(counts)}


def up_to_the_largest_label(labels):
    return {CLASSES[i]: int((labels == i).sum()) for i in range(int(labels.max()) + 1)}


def tensors(labels):
    return {name: (labels == i).sum() for i, name in enumerate(CLASSES)}


def floats(labels):
    counts = torch.histc(labels.float(), bins=len(CLASSES), min=0, max=len(CLASSES) - 1)
    return {name: float(c) for name, c in zip(CLASSES, counts, strict=True)}


def sorted_names(labels):
    return dict(sorted(right(labels).items()))


def numbered_from_one(labels):
    return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES, start=1)}


NOTEBOOK_LABELS = torch.arange(600) % len(CLASSES)


def the_notebooks_labels(labels):
    return right(NOTEBOOK_LABELS)


def cached():
    memory = {}

    def class_counts(labels):
        if "answer" not in memory:
            memory["answer"] = right(labels)
        return memory["answer"]

    return class_counts


def drops_the_last(labels):
    counts = dict.fromkeys(CLASSES, 0)
    for i in range(len(labels) - 1):
        counts[CLASSES[int(labels[i])]] += 1
    return counts


def fractions(labels):
    return {name: float((labels == i).float().mean()) for i, name in enumerate(CLASSES)}


def sorts_in_place(labels):
    labels.copy_(labels.sort().values)
    return right(labels)


MISTAKES = {
    "bincount without minlength": (bincount_without_minlength, "the keys miss 'Ankle boot'"),
    "unique": (skips_absent_classes, "the keys miss"),
    "Counter": (counter, "the keys miss"),
    "up to the largest label": (up_to_the_largest_label, "the keys miss 'Ankle boot'"),
    "tensors": (tensors, "plain Python ints, got Tensor"),
    "floats": (floats, "plain Python ints, got float"),
    "sorted names": (sorted_names, "not in label order"),
    "numbered from 1": (numbered_from_one, "are wrong"),
    "the notebook's labels": (the_notebooks_labels, "are wrong (on new labels of every class"),
    "cached": (cached(), "are wrong (on labels with no 'Ankle boot'"),
    "the last label dropped": (drops_the_last, "are wrong"),
    "fractions": (fractions, "are wrong"),
    "sorted in place": (sorts_in_place, "changed the labels it was given"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_wrong_count_fails(evaluate, mistake):
    function, message = MISTAKES[mistake]
    for _ in range(3):  # the check draws its labels: the mistake must show every time
        if mistake == "cached":
            function = cached()
        passed, said = evaluate("0.1", function)
        assert not passed and message in said, said
        assert "Hint:" in said


@pytest.mark.parametrize("function", [right, with_bincount])
def test_a_right_count_passes(evaluate, function):
    for _ in range(3):
        assert evaluate("0.1", function) == (True, "passed")


def test_the_course_s_counting_is_refused(evaluate):
    from reproml.data import Split
    from reproml.plots import plot_class_balance

    def from_the_bars(labels):
        figure = plot_class_balance(Split(torch.zeros(len(labels), 28, 28), labels))
        heights = [int(bar.get_height()) for bar in figure.axes[0].patches]
        return dict(zip(CLASSES, heights, strict=True))

    passed, said = evaluate("0.1", from_the_bars)
    assert not passed and "plot_class_balance" in said, said
