"""Following the training images into the model, for exercise 6.3: they go in as a tensor
that remembers which rows it holds, through the indexing, joins and dropout a training does,
and each time rows reach the model (a linear layer) it notes which images came in what order,
which of their pixels dropout zeroed, and the weights the model met."""

from __future__ import annotations

from typing import Any

EPOCHS = 3


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
