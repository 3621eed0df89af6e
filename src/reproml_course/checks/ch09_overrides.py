"""Chapter 09's check of the search space, as Hydra overrides (9.1): trials fixed on every
model and every batch size, each with a learning rate of its own, must give the overrides
that compose to the configuration the trial drew."""

from __future__ import annotations

import copy
import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch09_space import BATCH_SIZES, KEYS, LR_RANGE, MODELS


@exercise(
    "9.1",
    "the search space, as Hydra overrides",
    points=2,
    course_answers=(
        "reproml_course.chapters.search.as_overrides",
        "reproml_course.chapters.search.search_space",
    ),
    budget=60,
)
def exercise_9_1(trial_overrides: Any) -> None:
    """trial.suggest_categorical(name, choices), trial.suggest_float(name, low, high, log=True);
    a group is chosen with `model=mlp`, a value set with `optimizer.lr=0.003`: f-strings."""
    import optuna

    rng = random.Random()
    _expect_distributions(trial_overrides, rng.randrange(10_000))
    # every model and every batch size, each with a learning rate of its own
    models = [*MODELS, rng.choice(MODELS)]
    batch_sizes = list(BATCH_SIZES)
    rng.shuffle(models)
    rng.shuffle(batch_sizes)
    from reproml.config import load_config

    composed = {m: load_config([f"model={m}", "tracking=none"]) for m in MODELS}
    for model, batch_size in zip(models, batch_sizes, strict=True):
        fixed = {"model": model, "lr": 10 ** rng.uniform(-4, -1), "batch_size": batch_size}
        overrides = call(trial_overrides, optuna.trial.FixedTrial(fixed), what="trial_overrides")
        reference = copy.deepcopy(composed[model])
        reference.optimizer.lr, reference.trainer.batch_size = fixed["lr"], batch_size
        _expect_composes_to(overrides, fixed, reference)


def _expect_distributions(trial_overrides: Any, seed: int) -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    call(trial_overrides, trial, what="trial_overrides")
    found = trial.distributions
    missing = sorted(set(KEYS) - set(found))
    expect(
        not missing,
        f"the trial was not asked for {', '.join(missing)} (it was asked for "
        f"{', '.join(sorted(found)) or 'nothing'}).",
        "every value of the space comes from trial.suggest_...(name, ...), with these names.",
    )
    extra = sorted(set(found) - set(KEYS))
    expect(
        not extra,
        f"the trial was also asked for {', '.join(extra)}, which is not in the search space.",
        "draw the three values the exercise lists, and nothing else.",
    )
    for name in ("model", "batch_size"):
        got = found[name]
        expect(
            isinstance(got, CategoricalDistribution),
            f"{name} is drawn with {type(got).__name__}, not as a choice among values.",
            "a choice among a few values is categorical; a range of numbers is not.",
        )
        # the order of the choices is no mistake; their values, and types, are
        wanted = MODELS if name == "model" else BATCH_SIZES
        expect(
            sorted(map(repr, got.choices)) == sorted(map(repr, wanted)),
            f"{name} is drawn from the choices {list(got.choices)}, not the ones the exercise "
            "lists.",
            "take the choices from the exercise, as they are written there (a number is not "
            "the text of a number).",
        )
    got = found["lr"]
    expect(
        isinstance(got, FloatDistribution),
        f"lr is drawn with {type(got).__name__}, not from a range of floats.",
        "a learning rate is a float drawn from a range.",
    )
    if not got.log:
        raise CheckFailed(
            "lr is drawn uniformly: 9 draws in 10 land above 0.01, so the small learning "
            "rates are hardly ever tried.",
            "a learning rate spans orders of magnitude: draw its logarithm evenly.",
        )
    expect(
        (got.low, got.high) == LR_RANGE and got.step is None,
        f"lr is drawn from {got.low:g} to {got.high:g}"
        + (f" in steps of {got.step:g}" if got.step else "")
        + ", not over the range the exercise gives.",
        "take the range from the exercise, both ends included, without a step.",
    )


def _expect_composes_to(overrides: Any, fixed: dict[str, Any], reference: Any) -> None:
    """The overrides compose to ``reference``: the configuration of the trial's values."""
    from reproml.config import flatten_config, load_config

    expect(
        isinstance(overrides, list | tuple) and all(isinstance(o, str) for o in overrides),
        f"trial_overrides returned {type(overrides).__name__}, not a list of strings.",
        'one Hydra override per item, e.g. "optimizer.lr=0.003".',
    )
    try:
        config = load_config([*overrides, "tracking=none"])
    except Exception as error:
        raise CheckFailed(
            f"Hydra cannot compose {list(overrides)}: {str(error).splitlines()[0]}",
            "a group takes `group=option`, a value `group.key=value`.",
        ) from None
    model, lr, batch_size = fixed["model"], fixed["lr"], fixed["batch_size"]
    expect(
        config.model == reference.model,
        f"for model {model!r} the composed model is {dict(config.model)}, not the "
        f"{model} option of conf/model/.",
        "choose the group's option: setting model._target_ keeps the other model's parameters.",
    )
    expect(
        config.optimizer.lr == lr and config.trainer.batch_size == batch_size,
        f"for lr={lr!r} and batch_size={batch_size}, the composed configuration has "
        f"optimizer.lr={config.optimizer.lr!r}, trainer.batch_size={config.trainer.batch_size!r}.",
        "take each value from the trial, write it out in full.",
    )
    got, wanted = flatten_config(config), flatten_config(reference)
    changed = sorted(k for k in got.keys() | wanted.keys() if got.get(k) != wanted.get(k))
    expect(
        not changed,
        f"the overrides {list(overrides)} also change {', '.join(changed)}.",
        "return the trial's three values as overrides, and nothing else: the rest of the "
        "configuration is the search's, not the trial's.",
    )
