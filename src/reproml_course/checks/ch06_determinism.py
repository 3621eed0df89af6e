"""Chapter 06's check of the colleague's training made deterministic (6.3).

The weights say whether two calls agree: the same seed twice (0 included), other code drawing
in between, must give bitwise identical weights; two seeds, different ones; the caller's
global random state (torch's and Python's) is left as it was; and the model still learns.

Equal weights for equal seeds are not enough: a function that seeds its shuffle with a
constant, or no longer shuffles, or no longer drops out, is deterministic too. So the check
also follows the training images into the model: they go in as a tensor that remembers which
rows it holds, and each time rows reach the model (a linear layer), it notes which images came
in what order, which of their pixels dropout zeroed, and the weights the model started from.
From that, for two seeds: the data is shuffled, in another order each epoch, an order that
depends on the seed; dropout still drops, with masks and initial weights that depend on the seed.
"""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect

EPOCHS = 3
# The colleague's training, which the fixed function must still do: SGD at this learning rate,
# batches of this size (its default), dropout at this rate, a linear model of these shapes.
LEARNING_RATE, BATCH_SIZE, DROPOUT = 0.1, 32, 0.2
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


class _Uses:
    """What reached the model during one training: per call, the images' rows and values."""

    def __init__(self) -> None:
        self.rows: list = []  # the original index of each row that came in
        self.inputs: list = []  # what came in (after dropout)
        self.initial_weights = None
        self.weights: list = []  # the model's (weight, bias) as each call met them
        self.model = None

    def epoch_orders(self, count: int) -> list[list[int]] | None:
        """The order of each of the first EPOCHS epochs, if each saw every image once."""
        import torch

        if not self.rows:
            return None
        order = torch.cat([r.reshape(-1) for r in self.rows]).tolist()
        epochs = [order[i * count : (i + 1) * count] for i in range(EPOCHS)]
        if any(sorted(epoch) != list(range(count)) for epoch in epochs):
            return None
        return epochs

    def dropout_masks(self, images) -> list:
        """Per call, where the input is zero although the image's pixel is not."""
        masks = []
        for rows, came in zip(self.rows, self.inputs, strict=True):
            original = images[rows.reshape(-1)].reshape(came.shape)
            masks.append((came == 0) & (original != 0))
        return masks


def _followed_training(train_small: Any, images, labels, seed: int) -> _Uses | None:
    import torch

    uses = _Uses()
    followed = _follow(images, torch.arange(len(images)), uses)
    try:
        model = train_small(followed, labels, seed, epochs=EPOCHS)
    except Exception:
        return None
    if not isinstance(model, torch.nn.Module) or not uses.rows:
        return None
    uses.model = model
    return uses


def _follow(tensor, rows, uses: _Uses):
    import torch

    with torch._C.DisableTorchFunctionSubclass():
        followed = tensor.as_subclass(_followed_class())
    followed._rows, followed._uses = rows, uses
    return followed


_FOLLOWED = None
MODEL_INPUTS = ("linear", "matmul", "__matmul__", "mm", "addmm", "conv2d")
JOINS = ("stack", "cat", "concat", "concatenate")


def _followed_class():
    """A tensor class that knows which images its rows are (made once, torch imported late)."""
    global _FOLLOWED
    if _FOLLOWED is not None:
        return _FOLLOWED
    import torch

    class Followed(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            with torch._C.DisableTorchFunctionSubclass():
                result = func(*args, **kwargs)
            try:
                return _track(func, args, kwargs, result)
            except Exception:  # following is best effort: never break the student's code
                return result

    _FOLLOWED = Followed
    return Followed


def _track(func, args, kwargs, result):
    import torch

    name = getattr(func, "__name__", "")
    followed = [a for a in _flat(args) + _flat(list(kwargs.values())) if hasattr(a, "_rows")]
    if not followed or not isinstance(result, torch.Tensor):
        return result
    source = followed[0]
    uses = source._uses
    if name in MODEL_INPUTS and args and hasattr(args[0], "_rows"):
        with torch._C.DisableTorchFunctionSubclass():
            uses.rows.append(source._rows.clone())
            uses.inputs.append(_plain(args[0]).detach().clone())
            if uses.initial_weights is None and len(args) > 1:
                uses.initial_weights = _plain(args[1]).detach().clone()
            known = name == "linear" and len(args) > 2 and args[2] is not None
            uses.weights.append(
                (_plain(args[1]).detach().clone(), _plain(args[2]).detach().clone())
                if known
                else (None, None)
            )
        return result
    if name == "__getitem__":
        index = args[1]
        first = index[0] if isinstance(index, tuple) and index else index
        if first is Ellipsis or first is None:
            return result
        if isinstance(first, torch.Tensor):
            first = _plain(first)
        rows = source._rows[first]
    elif name in JOINS:
        parts = args[0] if args else kwargs.get("tensors")
        dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
        if dim != 0 or not all(hasattr(p, "_rows") for p in parts):
            return result
        join = torch.stack if name == "stack" else torch.cat
        rows = join([p._rows.reshape(-1) if name != "stack" else p._rows for p in parts])
    elif len({id(f._rows) for f in followed}) == 1 and (
        source._rows.dim() == 0 or (result.dim() > 0 and result.shape[0] == source.shape[0])
    ):
        rows = source._rows  # a per-row operation: flatten(1), a scale, dropout...
    else:
        return result
    if result is source:
        return result
    return _follow(result, rows, uses)


def _plain(tensor):
    import torch

    with torch._C.DisableTorchFunctionSubclass():
        return tensor.as_subclass(torch.Tensor)


def _flat(items) -> list:
    flat = []
    for item in items:
        if isinstance(item, list | tuple):
            flat.extend(item)
        else:
            flat.append(item)
    return flat
