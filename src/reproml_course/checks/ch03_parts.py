"""Chapter 03, exercise 3.4: ``build_parts(cfg)`` builds the model and its optimizer from a
composed configuration with Hydra's ``instantiate``.

The check composes configurations the student has not seen: the course's MLP with other sizes
and SGD, then a model class of the check's own (``scratch_parts.ScratchNet``) with AdamW, each
with fresh values. What comes back must be the classes the ``_target_`` keys name, with the
configured values, and an optimizer over the parameters of that very model (built once, not
twice); the configuration must come back unchanged.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect

SCRATCH = "reproml_course.checks.scratch_parts.ScratchNet"


def _cases(rng: random.Random) -> list[tuple[dict, dict]]:
    hidden = rng.sample([16, 24, 40, 56], rng.choice([1, 2]))
    sgd = {"_target_": "torch.optim.SGD", "_partial_": True,
           "lr": rng.choice([0.02, 0.07, 0.3]), "momentum": rng.choice([0.5, 0.8])}  # fmt: skip
    adamw = {"_target_": "torch.optim.AdamW", "_partial_": True,
             "lr": rng.choice([0.0005, 0.003]), "betas": [0.8, rng.choice([0.95, 0.99])],
             "weight_decay": rng.choice([0.02, 0.1])}  # fmt: skip
    mlp = {"_target_": "reproml.models.MLP", "hidden_sizes": hidden, "dropout": 0.1}
    scratch = {"_target_": SCRATCH, "width": rng.choice([3, 5, 7])}
    return [(mlp, sgd), (scratch, adamw)]


@exercise(
    "3.4", "build the parts with instantiate", points=2,
    course_answers=("reproml.parts.build_part", "reproml.training.prepare_run"), budget=60,
)  # fmt: skip
def exercise_3_4(build_parts: Any) -> None:
    """`model = hydra.utils.instantiate(cfg.model)`, then `instantiate(cfg.optimizer)` returns a
    functools.partial (the option has `_partial_: true`): call it with `model.parameters()`;
    return `(model, optimizer)`."""
    from omegaconf import OmegaConf

    for model_node, optimizer_node in _cases(random.Random()):
        cfg = OmegaConf.create({"seed": 0, "model": model_node, "optimizer": optimizer_node})
        before = OmegaConf.to_container(cfg)
        shown = f"build_parts(cfg) with model._target_={model_node['_target_']}"
        got = call(build_parts, cfg, what=shown)
        expect(
            OmegaConf.to_container(cfg) == before,
            f"{shown} changed the configuration it was given.",
            "read the configuration, never write it: it is the record of what ran.",
        )
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"{shown} returned {type(got).__name__}, not a pair (model, optimizer).",
            "return the model and its optimizer, in that order.",
        )
        _check_model(got[0], model_node, shown)
        _check_optimizer(got[1], got[0], optimizer_node, shown)


def _check_model(model: Any, node: dict, shown: str) -> None:
    from hydra.utils import get_class

    wanted = get_class(node["_target_"])
    if isinstance(model, functools.partial):
        raise CheckFailed(
            f"{shown} returned the model half-built (a functools.partial), not a model.",
            "the model's option has no `_partial_`: instantiate builds it at once; only the "
            "optimizer waits for the model's parameters.",
        )
    expect(
        type(model) is wanted,
        f"{shown} returned an object of class {type(model).__name__} as the model, where "
        f"cfg.model names {wanted.__name__}.",
        "build what `_target_` names, whatever it is: instantiate reads it for you.",
    )
    if "hidden_sizes" in node:
        widths = [m.out_features for m in model.modules() if type(m).__name__ == "Linear"][:-1]
        expect(
            widths == list(node["hidden_sizes"]),
            f"{shown} built an MLP with hidden layers {widths}, where cfg.model.hidden_sizes is "
            f"{list(node['hidden_sizes'])}.",
            "the keys beside `_target_` are the class's arguments: instantiate passes them.",
        )
    if "width" in node:
        expect(
            model.width == node["width"],
            f"{shown} built it with width={model.width}, where cfg.model.width is {node['width']}.",
            "the keys beside `_target_` are the class's arguments: instantiate passes them.",
        )


def _check_optimizer(optimizer: Any, model: Any, node: dict, shown: str) -> None:
    from hydra.utils import get_class

    wanted = get_class(node["_target_"])
    if isinstance(optimizer, functools.partial):
        raise CheckFailed(
            f"{shown} returned the optimizer half-built (a functools.partial of "
            f"{getattr(optimizer.func, '__name__', optimizer.func)}).",
            "`_partial_: true` makes instantiate bind what the configuration has; call what "
            "it returns with the model's parameters to finish the optimizer.",
        )
    expect(
        type(optimizer) is wanted,
        f"{shown} returned an object of class {type(optimizer).__name__} as the optimizer, "
        f"where cfg.optimizer names {wanted.__name__}.",
        "build the optimizer `cfg.optimizer._target_` names, with instantiate.",
    )
    group = optimizer.param_groups[0]
    for key, value in node.items():
        if key.startswith("_"):
            continue
        have = list(group[key]) if isinstance(group[key], tuple | list) else group[key]
        expect(
            have == value,
            f"{shown} built {wanted.__name__} with {key}={have!r}, where cfg.optimizer.{key} "
            f"is {value!r}.",
            "every key beside `_target_` and `_partial_` is an argument of the optimizer.",
        )
    updated = {id(p) for g in optimizer.param_groups for p in g["params"]}
    own = {id(p) for p in model.parameters()}
    if not updated & own:
        whose = "no parameter of the model it returned (the model built twice?)"
    elif updated < own:
        whose = f"only {len(updated)} of the {len(own)} parameter tensors of the model it returned"
    else:
        whose = "parameters that are not the model's"
    expect(
        updated == own,
        f"{shown} returned an optimizer that updates {whose}.",
        "build the model once, then give all of that model's parameters to the optimizer.",
    )
