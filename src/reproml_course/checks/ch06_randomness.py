"""What exercise 6.3's check concludes from the followed trainings (``ch06_followed``): the
colleague's training is still done (its number of steps, batches of its size, each step's
weights those of SGD on the previous batch's cross-entropy), and for two seeds the data is
shuffled, in another order each epoch, an order that depends on the seed, while dropout still
drops, with masks and initial weights that depend on the seed."""

from __future__ import annotations

from typing import Any

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.ch06_followed import EPOCHS, _followed_training, _Uses

# The colleague's training, which the fixed function must still do: SGD at this learning rate,
# batches of this size (its default), dropout at this rate, a linear model of these shapes.
LEARNING_RATE, BATCH_SIZE, DROPOUT = 0.1, 32, 0.2


def _identical(a, b) -> bool:
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _check_randomness(train_small: Any, images, labels, models: dict) -> None:
    """Each seed's training followed through the model's inputs (see the module's text);
    nothing is concluded where the images could not be followed, or following them changed
    the result (code that takes them apart in ways the tracking does not know)."""
    seen = {}
    for seed, model in models.items():
        uses = _followed_training(train_small, images, labels, seed)
        if uses is None or not _identical(uses.model, model):
            return
        seen[seed] = uses
    (a, first), (b, second) = seen.items()
    _check_same_training(first, labels)
    orders = [first.epoch_orders(len(images)), second.epoch_orders(len(images))]
    if all(order is not None for order in orders):
        identity = list(range(len(images)))
        expect(
            any(epoch != identity for epoch in orders[0]),
            "train_small feeds the images in the same order every epoch, the order they were "
            "given in: the shuffle is gone.",
            "change where the randomness comes from, not what the function does.",
        )
        expect(
            all(x != y for x, y in zip(orders[0], orders[0][1:], strict=False)),
            "train_small feeds the images in the same order in two successive epochs: each "
            "epoch should see a new order.",
            "one seeded generator, made once, draws every epoch's order.",
        )
        expect(
            orders[0] != orders[1],
            f"seeds {a} and {b} feed the images in the same order: the shuffle does not "
            "use the seed.",
            "the seed should decide every random draw, the order of the data included.",
        )
    expect(
        not _equal_tensors(first.initial_weights, second.initial_weights),
        f"seeds {a} and {b} start from the same initial weights: the weights' draw does not "
        "use the seed.",
        "the seed should decide every random draw.",
    )
    masks = [first.dropout_masks(images), second.dropout_masks(images)]
    expect(
        any(bool(mask.any()) for mask in masks[0]),
        "train_small no longer drops any input pixel out: it trains another model than the "
        "colleague's.",
        "change where the randomness comes from, not what the function does.",
    )
    dropped = sum(int(m.sum()) for m in masks[0]) / max(1, sum(m.numel() for m in masks[0]))
    expect(
        abs(dropped - DROPOUT) < 0.05,
        f"train_small drops {dropped:.0%} of the input pixels out, where the colleague's "
        f"drops {DROPOUT:.0%}.",
        "change where the randomness comes from, not what the function does.",
    )
    same_masks = len(masks[0]) == len(masks[1]) and all(
        _equal_tensors(x, y) for x, y in zip(*masks, strict=True)
    )
    expect(
        not same_masks,
        f"seeds {a} and {b} drop out the same pixels: dropout's draws do not use the seed.",
        "the seed should decide every random draw.",
    )


def _check_same_training(uses: _Uses, labels) -> None:
    """Step by step, what reached the model: the colleague's number of steps, batches of its
    size, and each step's weights those of SGD on the previous batch's cross-entropy."""
    import torch
    import torch.nn.functional as F

    count = sum(len(r.reshape(-1)) for r in uses.rows)
    per_epoch = -(-len(labels) // BATCH_SIZE)
    steps = EPOCHS * per_epoch
    if count < EPOCHS * len(labels) or len(uses.weights) < steps:
        raise CheckFailed(
            f"train_small feeds {count} images to the model, in {len(uses.rows)} steps, where "
            f"the colleague's feeds {EPOCHS} epochs of {len(labels)} ({steps} steps).",
            "change where the randomness comes from, not what the function does.",
        )
    sizes = [len(r.reshape(-1)) for r in uses.rows[:per_epoch]]
    expect(
        all(size == BATCH_SIZE for size in sizes[:-1]),
        f"train_small's batches hold {sorted(set(sizes))} images, not {BATCH_SIZE} (its "
        "batch_size).",
        "change where the randomness comes from, not what the function does.",
    )
    final = (
        [p.detach() for p in (uses.model.weight, uses.model.bias)]
        if hasattr(uses.model, "weight")
        else None
    )
    for step in range(steps):
        weight, bias = uses.weights[step]
        if weight is None or bias is None:
            return  # the model's input met a product the replay does not know
        weight, bias = weight.clone().requires_grad_(), bias.clone().requires_grad_()
        rows = uses.rows[step].reshape(-1)
        loss = F.cross_entropy(F.linear(uses.inputs[step], weight, bias), labels[rows])
        loss.backward()
        with torch.no_grad():
            expected = (weight - LEARNING_RATE * weight.grad, bias - LEARNING_RATE * bias.grad)
        after = uses.weights[step + 1] if step + 1 < steps else final
        if after is None:
            return
        expect(
            all(
                torch.allclose(e, g, rtol=1e-4, atol=1e-6)
                for e, g in zip(expected, after, strict=True)
            ),
            f"step {step + 1} of train_small's training does not move the weights as the "
            "colleague's does (SGD on the batch's cross-entropy, learning rate "
            f"{LEARNING_RATE}, the gradients zeroed between steps).",
            "change where the randomness comes from, not what the function does.",
        )


def _equal_tensors(a, b) -> bool:
    import torch

    return a is not None and b is not None and a.shape == b.shape and torch.equal(a, b)
