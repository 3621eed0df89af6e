"""Chapter 06: the reproducibility audit."""

from __future__ import annotations

import copy
import random
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect


@exercise("6.1", "prove two trained models identical, weight by weight", points=2)
def exercise_6_1(same_weights: Any) -> None:
    import torch

    from reproml.models import CNN, MLP

    torch.manual_seed(random.randrange(10**6))
    model = MLP(hidden_sizes=(random.choice([16, 32]),))
    twin = copy.deepcopy(model)
    expect(
        call(same_weights, model, twin, what="same_weights(model, copy)") is True,
        "same_weights says a model and its exact copy differ (or returned a non-bool).",
        "compare every tensor of model.state_dict() with torch.equal, and return True/False.",
    )
    nudged = copy.deepcopy(model)
    with torch.no_grad():
        layer = random.choice([p for p in nudged.parameters()])
        weight = layer.view(-1)[random.randrange(layer.numel())]
        # The next float32 up: a different bit pattern, yet inside torch.allclose's tolerance.
        weight.copy_(torch.nextafter(weight, torch.tensor(float("inf"))))
    expect(
        call(same_weights, model, nudged, what="same_weights(model, nudged)") is False,
        "same_weights says two models are identical although one weight differs in its last bit.",
        "bitwise identical is the test here: torch.equal, not torch.allclose.",
    )
    different = call(same_weights, model, CNN(), what="same_weights(mlp, cnn)")
    expect(
        different is False,
        "same_weights should say False for two different architectures.",
        "models with different parameter names or shapes are not identical.",
    )
    batch_norm = CNN()
    trained = copy.deepcopy(batch_norm)
    trained.train()
    with torch.no_grad():
        trained(torch.randn(4, 1, 28, 28))  # updates batch-norm running stats, not parameters
    expect(
        call(same_weights, batch_norm, trained, what="same_weights(cnn, cnn_after_forward)")
        is False,
        "same_weights misses a difference in the batch-norm running statistics.",
        "model.parameters() is not everything: state_dict() also holds the buffers.",
    )
    _check_names_and_count(same_weights)


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
    expect(
        call(same_weights, first, renamed, what="same_weights(model, renamed)") is False,
        "same_weights says two models are identical although their parameters have other "
        "names (net.3.weight is not net.4.weight).",
        "compare tensor by name, not in order.",
    )
    longer = nn.Sequential(*first, nn.ReLU(), nn.Linear(10, 10))
    expect(
        call(same_weights, first, longer, what="same_weights(model, model_plus_a_layer)") is False,
        "same_weights says a model is identical to itself plus one more layer.",
        "two models with a different number of tensors cannot be identical.",
    )


@exercise("6.3", "list what differs between two runs' environments", points=2)
def exercise_6_3(environment_diff: Any) -> None:
    rng = random.Random()
    base = {
        "git_commit": f"{rng.getrandbits(160):040x}",
        "git_dirty": "false",
        "uv_lock_sha256": f"{rng.getrandbits(256):064x}",
        "python": "3.11.7",
        "torch": "2.15.0",
        "device": "cpu",
        "data_digest": f"{rng.getrandbits(128):032x}",
    }
    other = dict(base)
    changed = rng.sample(sorted(base), 2)
    for key in changed:
        other[key] = other[key][::-1] + "x"
    removed = rng.choice([k for k in base if k not in changed])
    del other[removed]
    other["cuda"] = "12.8"
    expected = {key: (base[key], other[key]) for key in changed}
    expected[removed] = (base[removed], None)
    expected["cuda"] = (None, "12.8")
    diff = call(environment_diff, base, other, what="environment_diff(tags_a, tags_b)")
    expect(
        isinstance(diff, dict),
        f"environment_diff should return a dict, got {type(diff).__name__}.",
    )
    same = [key for key in diff if key in base and base[key] == other.get(key)]
    expect(not same, f"{same} are the same in both runs but are in the result.")
    missing = sorted(set(expected) - set(diff))
    if missing:
        raise CheckFailed(
            f"the result misses {missing} (checked on new tags).",
            "a tag present in only one run differs too: go over the union of both key sets "
            "and use None for a missing side.",
        )
    wrong = [key for key in expected if tuple(diff[key]) != expected[key]]
    expect(
        not wrong,
        f"the values for {wrong} should be (value in a, value in b).",
        "use tags.get(key) so a missing tag reads None.",
    )


@exercise("6.2", "draw a batch order that nothing else can disturb", points=2)
def exercise_6_2(batch_order: Any) -> None:
    import torch

    n, seed = random.randint(20, 200), random.randrange(10**6)
    first = call(batch_order, n, seed, what=f"batch_order({n}, {seed})")
    expect(
        isinstance(first, torch.Tensor) and sorted(first.tolist()) == list(range(n)),
        f"batch_order({n}, seed) should return a permutation of 0..{n - 1} as a tensor.",
        "torch.randperm gives one.",
    )
    torch.rand(random.randint(1, 100))  # someone else draws random numbers in between
    again = call(batch_order, n, seed, what=f"batch_order({n}, {seed}) again")
    expect(
        torch.equal(first, again),
        "the same seed gave a different order once other code had drawn random numbers.",
        "use a torch.Generator of your own, seeded with `seed`, instead of the global one.",
    )
    expect(
        not torch.equal(first, call(batch_order, n, seed + 1, what="another seed")),
        "a different seed gave the same order.",
    )
    state = torch.get_rng_state()
    call(batch_order, n, seed, what="batch_order")
    if not torch.equal(state, torch.get_rng_state()):
        raise CheckFailed(
            "batch_order changed the global random state (so it disturbs everyone else).",
            "do not call torch.manual_seed; give randperm a generator= argument.",
        )
