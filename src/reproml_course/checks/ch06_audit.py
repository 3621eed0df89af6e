"""Chapter 06: the reproducibility audit. Here, 6.1: two trained models proved identical
weight by weight, on models of the check's own (an exact copy, the model itself; each tensor
changed a lot, by its last bit, or two of its elements swapped; other architectures, names or
counts of tensors); 6.2, what differs between two
runs, is ``ch06_run_differences``'s."""

from __future__ import annotations

import copy
import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect

# The course's own code of chapter 06 (re-running and comparing runs) is no answer to 6.1 or 6.2.
COURSE_ANSWERS = ("reproml_course.chapters.audit",)


@exercise(
    "6.1", "prove two trained models identical, weight by weight", points=2,
    course_answers=COURSE_ANSWERS, budget=60,
)  # fmt: skip
def exercise_6_1(same_weights: Any) -> None:
    """model.state_dict() holds parameters and buffers under their names; compare the keys first,
    then each tensor with torch.equal (torch.allclose forgives the last bits)."""
    import torch

    rng = random.Random()
    with torch.random.fork_rng(devices=[]):  # the notebook's own random state is left alone
        torch.manual_seed(rng.randrange(2**31))
        models = _models(rng)
        for model in models:
            _ask(same_weights, model, copy.deepcopy(model), True, "a model and its exact copy")
            _ask(same_weights, model, model, True, "a model and itself")
        seed = rng.randrange(2**31)
        twins = []
        for _ in range(2):
            torch.manual_seed(seed)
            twins.append(_small_cnn())
        _ask(same_weights, *twins, True, "two models built alike from the same seed")
        for model in models:
            _check_every_tensor(same_weights, model, rng)
        _check_architectures(same_weights, models)
        _check_names_and_count(same_weights)


def _small_cnn():
    from reproml.models import CNN

    return CNN(channels=(4, 8), hidden=16)


def _models(rng: random.Random) -> list:
    """A logistic regression, an MLP of a drawn width, and a CNN whose batch-norm running
    statistics have moved (a forward pass in training mode)."""
    import torch

    from reproml.models import MLP, LogisticRegression

    cnn = _small_cnn()
    cnn.train()
    with torch.no_grad():
        cnn(torch.randn(4, 1, 28, 28))  # updates batch-norm running stats, not parameters
    mlp = MLP(hidden_sizes=(rng.choice([8, 16, 32]), rng.choice([8, 16])))
    return [LogisticRegression(), mlp, cnn]


def _ask(same_weights: Any, a, b, want: bool, what: str, hint: str = "") -> None:
    got = call(same_weights, a, b, what="same_weights(model_a, model_b)")
    expect(
        isinstance(got, bool),
        f"same_weights returned {type(got).__name__} {got!r}, not True or False.",
        "return a Python bool (bool() of a tensor's answer, or all(...)).",
    )
    if got != want:
        says = "identical" if got else "different"
        raise CheckFailed(
            f"same_weights says {what} are {says}.",
            hint
            or "compare every tensor of model.state_dict() with torch.equal, and return "
            "True/False.",
        )


def _check_every_tensor(same_weights: Any, model, rng: random.Random) -> None:
    """Each tensor of the state in turn: one element changed a lot, then by its last bit,
    then two elements swapped (the same values, the same sum, other places)."""
    import torch

    parameters = {name for name, _ in model.named_parameters()}
    state = model.state_dict()
    kind = f"a {type(model).__name__}"
    for name in state:
        other = copy.deepcopy(model)
        with torch.no_grad():
            target = other.state_dict()[name].view(-1)
            target[rng.randrange(target.numel())] += 1
        _ask(
            same_weights, model, other, False,
            f"{kind} and a copy whose `{name}` differs in one element",
            "model.parameters() is not everything: state_dict() also holds the buffers "
            "(batch norm's running statistics)." if name not in parameters
            else "compare every tensor of the state, by its name.",
        )  # fmt: skip
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            continue
        other = copy.deepcopy(model)
        with torch.no_grad():
            target = other.state_dict()[name].view(-1)
            i = rng.randrange(target.numel())
            # The next float up: a different bit pattern, yet inside torch.allclose's tolerance.
            target[i] = torch.nextafter(target[i], torch.tensor(float("inf")))
        _ask(
            same_weights, model, other, False,
            f"{kind} and a copy whose `{name}` differs in the last bit of one element",
            "bitwise identical is the test here: torch.equal, not torch.allclose.",
        )  # fmt: skip
        pair = _two_different(tensor.view(-1), rng)
        if pair is None:
            continue
        other = copy.deepcopy(model)
        with torch.no_grad():
            target = other.state_dict()[name].view(-1)
            i, j = pair
            target[i], target[j] = tensor.view(-1)[j], tensor.view(-1)[i]
        _ask(
            same_weights, model, other, False,
            f"{kind} and a copy where two elements of `{name}` changed places (the same "
            "values, the same sum)",
            "compare the tensors element by element, not a summary of them.",
        )  # fmt: skip


def _two_different(values, rng: random.Random) -> tuple[int, int] | None:
    """Two positions holding different values, if there are any."""
    if values.numel() < 2:
        return None
    for _ in range(100):
        i, j = rng.sample(range(values.numel()), 2)
        if values[i] != values[j]:
            return i, j
    return None  # every element equal (a fresh running_var): a swap changes nothing


def _check_architectures(same_weights: Any, models: list) -> None:
    """Different architectures, both ways round: never identical."""
    from reproml.models import MLP

    logistic, mlp, cnn = models
    widths = [layer.out_features for layer in mlp.net if hasattr(layer, "out_features")]
    wider = MLP(hidden_sizes=(2 * widths[0], *widths[1:-1]))
    for a, b, what in (
        (mlp, cnn, "an MLP and a CNN"),
        (logistic, mlp, "a logistic regression and an MLP"),
        (mlp, wider, "two MLPs of different widths"),
    ):
        for first, second in ((a, b), (b, a)):
            _ask(
                same_weights, first, second, False, what,
                "models with different parameter names or shapes are not identical.",
            )  # fmt: skip


def _check_names_and_count(same_weights: Any) -> None:
    """The same tensors under other names, and one model that is the other plus a layer:
    comparing the values in order (zip) says identical to both."""
    import torch
    from torch import nn

    first = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 10))
    renamed = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.Dropout(), nn.ReLU())
    renamed.append(nn.Linear(8, 10))
    with torch.no_grad():
        for a, b in zip(first.parameters(), renamed.parameters(), strict=True):
            b.copy_(a)  # the same numbers, in the same order, under other names
    for a, b in ((first, renamed), (renamed, first)):
        _ask(
            same_weights, a, b, False,
            "two models whose tensors hold the same numbers under other names (net.3.weight "
            "is not net.4.weight)",
            "compare tensor by name, not in order.",
        )  # fmt: skip
    longer = nn.Sequential(*first, nn.ReLU(), nn.Linear(10, 10))
    for a, b in ((first, longer), (longer, first)):
        _ask(
            same_weights, a, b, False, "a model and itself plus one more layer",
            "two models with a different number of tensors cannot be identical.",
        )  # fmt: skip
