"""Chapter 09's check of a real search whose trials are MLflow child runs (9.4): the
validation accuracies the training loop measures are planted by the check (the same values
reach the callback, the tracker and the result), so that which trial is pruned, and at which
epoch, is known in advance, and the best epoch is never the last."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from reproml.base.env import environment
from reproml.schema import option_name
from reproml_course.checks.base import call, exercise, expect
from reproml_course.checks.ch09_space import BATCH_SIZES, LR_RANGE, MODELS, _reference_pruner
from reproml_course.checks.ch09_trial_runs import _expect_parent, _expect_trial_runs
from reproml_course.checks.stores import scratch_store

# 9.4: the three trials the check plants before the student's search draws its own (two sound
# configurations, then one whose validation accuracy stays far below theirs: pruned at epoch
# 2), and the validation accuracy each configuration's training reports, epoch by epoch (the
# check plants it): best at epoch 2, lower after, so that the best epoch is never the last.
PLANTED = [
    {"model": "mlp", "lr": 0.003, "batch_size": 32},
    {"model": "mlp", "lr": 0.01, "batch_size": 64},
    {"model": "logreg", "lr": 0.0001, "batch_size": 128},
]
PLANTED_CURVES = [[0.70, 0.78, 0.74], [0.64, 0.72, 0.69], [0.12, 0.11, 0.13]]
DRAWN_CURVE = [0.72, 0.80, 0.76]  # any other configuration: the trials the search draws


@exercise(
    "9.4",
    "a tracked search, trials as MLflow child runs",
    points=3,
    course_answers=(
        "reproml_course.chapters.search.run_trials",
        "reproml_course.chapters.search.make_study",
        "reproml_course.cli.search.run_worker",
        "reproml_course.chapters.pruning.PruneOnValidation",
    ),
    budget=300,  # 4 trials trained for real: 15-50 s here in quick mode, full mode longer
)
def exercise_9_4(run_search: Any, objective: Any) -> None:
    """objective: hydra.initialize_config_dir(...) then hydra.compose(...) for the
    configuration; reproml.experiment.run_experiment(config, data=..., callbacks=[...]) trains it
    and its result's metrics hold the validation accuracy to return. run_search: a `with
    mlflow.start_run(...)` block around study.optimize(objective, n_trials=...); the run's id is
    in its info."""
    import mlflow
    import optuna

    n_trials = len(PLANTED) + 1
    shift = random.uniform(-0.02, 0.02)  # the same for every curve: their order stays
    started: list[Any] = []

    def planted(cfg: Any, epoch: int) -> float:
        if epoch == 1:
            started.append(cfg)
            if len(started) > n_trials:  # a search that does not stop: cut it short
                with contextlib.suppress(RuntimeError):  # not inside study.optimize
                    study.stop()
        return _planted_value(cfg, epoch, shift)

    # The trials' trackers read the store from the environment (a notebook's setup sets it).
    with (
        scratch_store("check-9.4") as tmp,
        environment({"MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db"}),
        _planted_validation(planted),
        _counted_data_reads() as reads,
    ):
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=random.randrange(10_000)),
            pruner=_reference_pruner(),
        )
        for params in PLANTED:
            study.enqueue_trial(params)
        parent_id = call(run_search, study, objective, n_trials, what="run_search(...)")
        expect(
            len(study.trials) == n_trials,
            f"the study it was given holds {len(study.trials)} trials after "
            f"run_search(study, objective, {n_trials}), not {n_trials}.",
            "optimise the study passed in, with the number of trials passed in.",
        )
        expect(
            not reads,
            f"the search read the images from disk {len(reads)} times, once per trial: each "
            "trial loaded the data again instead of training on the notebook's `data`.",
            "pass the data read once in the setup: run_experiment(config, data=data, ...). At "
            "full size, reading 60,000 images again costs every trial seconds.",
        )
        _expect_parent(parent_id)
        children = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'",
            output_format="list",
        )
        _expect_trial_runs(study, children, n_trials)


def _planted_value(cfg: Any, epoch: int, shift: float) -> float:
    curve = DRAWN_CURVE
    for params, planted in zip(PLANTED, PLANTED_CURVES, strict=True):
        lr = cfg.optimizer.get("lr")
        same_lr = isinstance(lr, int | float) and math.isclose(lr, params["lr"], rel_tol=1e-9)
        if option_name("model", cfg.model) == params["model"] and same_lr:
            curve = planted
    value = curve[epoch - 1] if epoch <= len(curve) else curve[-1] - 0.005 * (epoch - len(curve))
    return round(min(1.0, max(0.0, value + shift)), 4)


@contextlib.contextmanager
def _counted_data_reads() -> Iterator[list[Any]]:
    """While the block runs, each time the training loop reads the data from disk (it does
    when it is given none) is noted in the list it yields."""
    from reproml import training

    original = training.load_data
    reads: list[Any] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return original(*args, **kwargs)

    training.load_data = counted
    try:
        yield reads
    finally:
        training.load_data = original


@contextlib.contextmanager
def _planted_validation(value_of: Callable[[Any, int], float]) -> Iterator[None]:
    """While the block runs, each epoch of the course's training loop reports the validation
    accuracy ``value_of(config, epoch)`` instead of the one it measured (the training itself
    is real); the callbacks, the tracker and the result all see the planted value."""
    from reproml.loop import EpochLoop

    original = EpochLoop.run

    def planted(loop: EpochLoop, epoch: int) -> Any:
        _expect_in_the_space(loop.config)  # before it trains: another one can take minutes
        record = original(loop, epoch)
        return dataclasses.replace(record, val_accuracy=value_of(loop.config, record.epoch))

    EpochLoop.run = planted
    try:
        yield
    finally:
        EpochLoop.run = original


def _expect_in_the_space(cfg: Any) -> None:
    """A trial trains a point of the search space; anything else is the wrong configuration
    (the default one, say: a CNN, which would take minutes to train here)."""
    lr, model = cfg.optimizer.get("lr"), option_name("model", cfg.model)
    inside = (
        model in MODELS
        and cfg.trainer.get("batch_size") in BATCH_SIZES
        and isinstance(lr, int | float)
        and LR_RANGE[0] <= lr <= LR_RANGE[1]
    )
    expect(
        inside,
        f"a trial started training model={model}, optimizer.lr={lr}, "
        f"trainer.batch_size={cfg.trainer.get('batch_size')}: not a point of the search space, "
        "so the trial's values did not reach the configuration.",
        "compose each trial's configuration with its overrides (trial_overrides), after the "
        "notebook's and the search's.",
    )
