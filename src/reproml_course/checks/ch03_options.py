"""Each option of exercise 3.1's config groups, as Hydra composes it: exactly its own
parameters with the values the exercise gives, and what Hydra's ``instantiate`` needs to build
it (``_target_``, the class's dotted path; ``_partial_: true`` for an optimizer, built later
with the model's parameters)."""

from __future__ import annotations

from typing import Any

from reproml_course.checks.base import CheckFailed, expect

# What each option holds, as the exercise gives it.
OPTIONS = {
    ("model", "mlp"): {"_target_": "reproml.models.MLP", "hidden_sizes": [256, 128],
                       "dropout": 0.2},
    ("model", "logreg"): {"_target_": "reproml.models.LogisticRegression"},
    ("optimizer", "sgd"): {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.05,
                           "momentum": 0.9},
    ("optimizer", "adam"): {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.001,
                            "betas": [0.9, 0.999]},
}  # fmt: skip


def _check_option(group: str, option: str, got: Any) -> None:
    """An option composes to exactly the keys and values the exercise lists: not even a
    neutral extra one (SGD's weight_decay: 0.0, copied from the course's conf/), since the
    exercise says "nothing else"."""
    wanted = OPTIONS[group, option]
    what = f"{group}={option}"
    expect(
        isinstance(got, dict),
        f"{what} composes {group} to {got!r}, not a set of keys.",
        "an option file holds `key: value` lines: Hydra puts them under the group's name.",
    )
    _check_target(group, option, got)
    others = {
        key: other
        for (g, other), keys in OPTIONS.items()
        if g == group and other != option
        for key in keys
        if key not in wanted
    }
    foreign = [key for key in got if key in others]
    if foreign:
        whose = (
            "a logistic regression has no parameters"
            if option == "logreg"
            else f"{foreign[0]} is {others[foreign[0]]}'s"
        )
        raise CheckFailed(
            f"{what} composes to {got}: it should have "
            f"{', '.join(sorted(k for k in wanted if not k.startswith('_'))) or 'its _target_'}"
            f" and none of {', '.join(foreign)} ({whose}).",
            "an option holds only its own parameters: that is what chapter 02's flat "
            "namespace could not do.",
        )
    missing = [key for key in wanted if key not in got]
    expect(
        not missing,
        f"{what} composes to {got}: it has no {', '.join(missing)}.",
        f"conf/{group}/{option}.yaml holds each parameter of its option, with the value the "
        "exercise gives.",
    )
    unknown = [k for k in got if k not in wanted]
    expect(
        not unknown,
        f"{what} composes to {got}: {', '.join(unknown)} "
        + ("is not a parameter" if len(unknown) == 1 else "are not parameters")
        + " the exercise gives it.",
        f"conf/{group}/{option}.yaml holds exactly {', '.join(wanted)}, nothing else: a key "
        "the optimizer or model does not take fails when the run starts, and one that it "
        "takes belongs on the command line (or in a preset) when a run needs it.",
    )
    for key, value in wanted.items():
        have = got[key]
        same_type = type(have) is type(value) or (
            isinstance(value, float) and type(have) is int and have == value
        )
        expect(
            same_type,
            f"{what} has {key}={have!r} ({type(have).__name__}), where the exercise gives "
            f"a {type(value).__name__}.",
            "in YAML a list is written in square brackets, [a, b], and a number without quotes.",
        )
        expect(
            have == value,
            f"{what} has {key}={have!r}; the exercise gives another value.",
            "each option file holds the values the exercise lists: they are the defaults "
            "every run starts from.",
        )


def _check_target(group: str, option: str, got: dict) -> None:
    """What Hydra needs to build the part: ``_target_``, spelled so, naming the class; for an
    optimizer, ``_partial_: true`` (it is built later, once the model's parameters exist). An
    option nested under its group's name is left to the messages about keys."""
    if set(got) == {group}:
        return
    what = f"conf/{group}/{option}.yaml"
    near = [k for k in got if k != "_target_" and k.strip("_").lower() in ("target", "class")]
    expect(
        "_target_" in got,
        f"{what} has no _target_"
        + (f" (it has {near[0]!r}: Hydra reads only `_target_`)" if near else "")
        + (" (it has name:, which Hydra does not read)" if "name" in got and not near else "")
        + ".",
        "`_target_:`, with an underscore on each side, names the class Hydra's instantiate "
        "builds; the exercise gives it.",
    )
    target, wanted = got["_target_"], OPTIONS[group, option]["_target_"]
    if target != wanted and isinstance(target, str):
        module = target.rpartition(".")[0]
        reason = (
            "a class's path starts with its module" if not module
            else "the class keeps its capitals" if target.lower() == wanted.lower()
            else "that is another class"
        )  # fmt: skip
        raise CheckFailed(
            f"{what} has _target_: {target}; Hydra would import and call that ({reason}).",
            "_target_ is the dotted path of a class, module then class name, exactly as you "
            "would import it: the exercise gives it.",
        )
    partial = got.get("_partial_")
    if group == "optimizer" and partial is not True:
        said = "no _partial_" if "_partial_" not in got else f"_partial_: {partial!r}"
        raise CheckFailed(
            f"{what} has {said}"
            + (" (text, not true)" if isinstance(partial, str) else "")
            + f": instantiate would call {wanted.rpartition('.')[2]}(lr=...) at once, without "
            "the model's parameters, and fail.",
            "`_partial_: true` (no quotes) makes instantiate return the optimizer half-built; "
            "the training calls it with the model's parameters.",
        )
