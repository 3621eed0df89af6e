"""Chapter 09's checks: the search space as Hydra overrides (9.1), pruning on the validation
accuracy (9.2), the study (9.3), and a real search whose trials are MLflow child runs (9.4)."""

from __future__ import annotations

import math
import random
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.checks.stores import scratch_store
from reproml.logs import environment

MODELS = ["logreg", "mlp"]
BATCH_SIZES = [32, 64, 128]
LR_RANGE = (1e-4, 1e-1)
PRUNE_FROM_EPOCH = 2
STARTUP_TRIALS = 2


def _expected_distributions() -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "model": CategoricalDistribution(MODELS),
        "lr": FloatDistribution(*LR_RANGE, log=True),
        "batch_size": CategoricalDistribution(BATCH_SIZES),
    }


@exercise("9.1", "the search space, as Hydra overrides", points=2)
def exercise_9_1(trial_overrides: Any) -> None:
    """trial.suggest_categorical(name, choices), trial.suggest_float(name, low, high, log=True);
    a group is chosen with `model=mlp`, a value set with `optimizer.lr=0.003`: f-strings."""
    import optuna

    from reproml.config import load_config

    rng = random.Random()
    _expect_distributions(trial_overrides, rng.randrange(10_000))
    fixed = {"model": rng.choice(MODELS), "lr": 10 ** rng.uniform(-4, -1),
             "batch_size": rng.choice(BATCH_SIZES)}  # fmt: skip
    overrides = call(trial_overrides, optuna.trial.FixedTrial(fixed), what="trial_overrides")
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
    reference = load_config([f"model={fixed['model']}", "tracking=none"])
    expect(
        config.model == reference.model,
        f"for model {fixed['model']!r} the composed model is {dict(config.model)}, not the "
        f"{fixed['model']} option of conf/model/.",
        "choose the group's option: setting model.name keeps the other model's parameters.",
    )
    expect(
        config.optimizer.lr == fixed["lr"] and config.trainer.batch_size == fixed["batch_size"],
        f"for lr={fixed['lr']!r} and batch_size={fixed['batch_size']}, the composed "
        f"configuration has optimizer.lr={config.optimizer.lr!r}, "
        f"trainer.batch_size={config.trainer.batch_size!r}.",
        "take each value from the trial, write it out in full.",
    )


def _expect_distributions(trial_overrides: Any, seed: int) -> None:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    call(trial_overrides, trial, what="trial_overrides")
    found, expected = trial.distributions, _expected_distributions()
    missing = sorted(set(expected) - set(found))
    expect(
        not missing,
        f"the trial was not asked for {', '.join(missing)} (it was asked for "
        f"{', '.join(sorted(found)) or 'nothing'}).",
        "every value of the space comes from trial.suggest_...(name, ...), with these names.",
    )
    for name, distribution in expected.items():
        got = found[name]
        if name == "lr" and getattr(got, "log", None) is False:
            raise CheckFailed(
                "lr is drawn uniformly: 9 draws in 10 land above 0.01, so the small learning "
                "rates are hardly ever tried.",
                "a learning rate spans orders of magnitude: draw its logarithm evenly.",
            )
        expect(
            got == distribution,
            f"{name} is drawn from {got}, not from {distribution}.",
            "a choice among values is categorical; a range of floats is suggest_float.",
        )


@exercise("9.2", "prune on the validation accuracy", points=2)
def exercise_9_2(PruneOnValidation: Any) -> None:
    """A subclass of reproml.training.Callback whose on_epoch_end(record) calls
    trial.report(value, step) with record.val_accuracy and record.epoch, then raises
    optuna.TrialPruned() when trial.should_prune() says so."""
    import optuna

    from reproml.training import Callback

    rng = random.Random()
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(STARTUP_TRIALS, n_warmup_steps=PRUNE_FROM_EPOCH),
    )
    epochs = 5
    good = [_curve(rng, 0.6, epochs) for _ in range(STARTUP_TRIALS)]
    for curve in good:
        trial = study.ask()
        callback = call(PruneOnValidation, trial, what="PruneOnValidation(trial)")
        expect(
            isinstance(callback, Callback),
            f"PruneOnValidation(trial) is a {type(callback).__name__}, not a "
            "reproml.training.Callback: the training loop calls on_batch_end on it too.",
            "subclass Callback and override on_epoch_end only.",
        )
        _feed(callback, curve, rng, study, trial)
        expect(
            trial.number in {t.number for t in study.trials if t.state.name == "COMPLETE"},
            f"trial {trial.number} was stopped although no trial had finished before it: "
            "the median of nothing cannot say a trial is worse.",
            "ask the trial whether to prune; do not decide yourself.",
        )
        _expect_reported(study, trial.number, curve)
    low = [value - 0.3 for value in good[0]]
    trial = study.ask()
    _feed(call(PruneOnValidation, trial, what="PruneOnValidation(trial)"), low, rng, study, trial)
    pruned = study.trials[trial.number]
    expect(
        pruned.state.name == "PRUNED",
        f"a trial 0.3 below the others at every epoch was not stopped ({pruned.state.name}).",
        "after reporting, ask the trial whether to prune; Optuna's way to stop a trial is an "
        "exception.",
    )
    _expect_reported(study, trial.number, low[:PRUNE_FROM_EPOCH])


def _curve(rng: random.Random, start: float, epochs: int) -> list[float]:
    values, value = [], start
    for _ in range(epochs):
        value = min(0.99, value + rng.uniform(0.01, 0.05))
        values.append(round(value, 4))
    return values


def _feed(callback: Any, curve: list[float], rng: random.Random, study: Any, trial: Any) -> None:
    """Epoch records as the training loop sends them, then what an objective tells Optuna."""
    import optuna

    from reproml.training import EpochRecord

    try:
        for epoch, value in enumerate(curve, start=1):
            record = EpochRecord(
                epoch=epoch, train_loss=rng.uniform(0.2, 1.0), train_accuracy=value + 0.05,
                val_accuracy=value, learning_rate=1e-3, seconds=0.1,
            )  # fmt: skip
            call(callback.on_epoch_end, record, what="on_epoch_end(record)")
    except CheckFailed as failure:
        if "TrialPruned" not in failure.problem:
            raise
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return
    study.tell(trial, curve[-1])


def _expect_reported(study: Any, number: int, curve: list[float]) -> None:
    reported = study.trials[number].intermediate_values
    expected = dict(enumerate(curve, start=1))
    expect(
        reported == expected,
        f"trial {number} reported {reported or 'nothing'}; the loop's validation accuracies "
        f"were {expected} (epoch: value).",
        "report record.val_accuracy (never a training or test value) with the epoch as the step.",
    )


@exercise("9.3", "a seeded, pruned study", points=1)
def exercise_9_3(make_study: Any) -> None:
    """optuna.create_study(direction=..., sampler=optuna.samplers.TPESampler(seed=...),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=..., n_warmup_steps=...)); a trial's
    steps are epochs, counted from 1, and a step below n_warmup_steps is never pruned."""
    import optuna

    rng = random.Random()
    seed = rng.randrange(10_000)
    study = call(make_study, seed, what=f"make_study({seed})")
    expect(isinstance(study, optuna.Study), f"make_study returned {type(study).__name__}.")
    expect(
        study.direction == optuna.study.StudyDirection.MAXIMIZE,
        "the study minimises: it would look for the lowest validation accuracy.",
        "Optuna minimises unless told otherwise.",
    )
    expect(
        isinstance(study.sampler, optuna.samplers.TPESampler),
        f"the study samples with {type(study.sampler).__name__}, not TPE.",
    )
    expect(
        _first_draws(study) == _first_draws(call(make_study, seed, what="make_study")),
        f"two studies made with seed {seed} draw different trials.",
        "the sampler takes the seed.",
    )
    expect(
        _first_draws(study) != _first_draws(call(make_study, seed + 1, what="make_study")),
        f"seeds {seed} and {seed + 1} draw the same trials: the seed is not used.",
    )
    _expect_median_pruning(call(make_study, seed, what="make_study"))


def _first_draws(study: Any) -> list[float]:
    from optuna.distributions import FloatDistribution

    draws = []
    for _ in range(3):
        trial = study.ask({"x": FloatDistribution(0, 1)})
        draws.append(trial.params["x"])
        study.tell(trial, draws[-1])
    return draws


def _expect_median_pruning(study: Any) -> None:
    import optuna

    def prune_at(curve: list[float]) -> int | None:
        trial = study.ask()
        for epoch, value in enumerate(curve, start=1):
            trial.report(value, epoch)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                return epoch
        study.tell(trial, curve[-1])
        return None

    prune_at([0.5, 0.55, 0.6])
    early = prune_at([0.2, 0.22, 0.25])
    expect(
        early is None,
        f"with only one finished trial, a trial below it was pruned at epoch {early}.",
        f"the pruner should wait for {STARTUP_TRIALS} finished trials (n_startup_trials).",
    )
    bad = prune_at([0.05, 0.06, 0.07, 0.08])
    expect(
        bad == PRUNE_FROM_EPOCH,
        f"after {STARTUP_TRIALS} finished trials, a trial far below them at every epoch was "
        + (f"pruned at epoch {bad}" if bad else "never pruned")
        + f", not at epoch {PRUNE_FROM_EPOCH}.",
        "median pruning; the first epoch alone says little (a warm-up), and epochs count from 1.",
    )


# The three trials the check plants before the student's search draws its own: two sound
# configurations, then one that learns far too slowly and must be pruned at epoch 2.
PLANTED = [
    {"model": "mlp", "lr": 0.003, "batch_size": 32},
    {"model": "mlp", "lr": 0.01, "batch_size": 64},
    {"model": "logreg", "lr": 0.0001, "batch_size": 128},
]


@exercise("9.4", "a tracked search, trials as MLflow child runs", points=3)
def exercise_9_4(run_search: Any, objective: Any) -> None:
    """objective: hydra.initialize_config_dir(...) then hydra.compose(...) for the
    configuration; reproml.experiment.run_experiment(config, data=..., callbacks=[...]) trains it
    and its result's metrics hold the validation accuracy to return. run_search: a `with
    mlflow.start_run(...)` block around study.optimize(objective, n_trials=...); the run's id is
    in its info."""
    import mlflow
    import optuna

    n_trials = len(PLANTED) + 1
    # The trials' trackers read the store from the environment (a notebook's setup sets it).
    with (
        scratch_store("check-9.4") as tmp,
        environment({"MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db"}),
    ):
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=random.randrange(10_000)),
            pruner=optuna.pruners.MedianPruner(STARTUP_TRIALS, n_warmup_steps=PRUNE_FROM_EPOCH),
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
            isinstance(parent_id, str) and bool(parent_id),
            f"run_search returned {parent_id!r}, not the parent run's id.",
        )
        children = mlflow.search_runs(
            search_all_experiments=True,
            filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'",
            output_format="list",
        )
        _expect_trial_runs(study, children, n_trials)


def _expect_trial_runs(study: Any, children: list, n_trials: int) -> None:
    expect(
        len(children) == n_trials,
        f"the parent run has {len(children)} child runs, the study {n_trials} trials.",
        "open the parent run around the whole search; the training inside each trial then "
        "makes a child run of it.",
    )
    runs = {}
    for run in children:
        lr = float(run.data.params.get("optimizer.lr", "nan"))
        runs[(run.data.params.get("model.name"), round(lr, 12))] = run
    for trial in study.trials:
        key = (trial.params.get("model"), round(trial.params.get("lr", math.nan), 12))
        run = runs.get(key)
        expect(
            run is not None,
            f"no child run trained trial {trial.number}'s configuration {trial.params}.",
            "each trial trains the configuration it suggested, in a run of its own.",
        )
        _expect_same_trial(trial, run)
    third = study.trials[2]
    expect(
        third.state.name == "PRUNED",
        f"trial 2 ({PLANTED[2]}) learns far slower than trials 0 and 1, yet it was "
        f"{third.state.name}, reporting {third.intermediate_values or 'nothing'}.",
        "the training needs the pruning callback, and enough epochs for the pruner to act.",
    )


def _expect_same_trial(trial: Any, run: Any) -> None:
    from mlflow import MlflowClient

    status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(trial.state.name)
    expect(
        status is not None,
        f"trial {trial.number} ended {trial.state.name}.",
        "a pruned trial raises optuna.TrialPruned out of the objective; nothing else fails.",
    )
    expect(
        run.info.status == status,
        f"trial {trial.number} is {trial.state.name} but its MLflow run is {run.info.status}.",
        "let the pruning exception leave the objective: the run is then marked KILLED.",
    )
    history = MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")
    logged = {point.step: round(point.value, 6) for point in history}
    reported = {step: round(value, 6) for step, value in trial.intermediate_values.items()}
    expect(
        reported == logged,
        f"trial {trial.number} reported {reported} to Optuna, its run logged the validation "
        f"accuracies {logged}.",
        "report what the training loop measures on the validation images, each epoch.",
    )
    if trial.state.name == "COMPLETE":
        final = logged[max(logged)]
        expect(
            trial.value is not None and math.isclose(trial.value, final, abs_tol=1e-6),
            f"trial {trial.number}'s value is {trial.value}, its run's final validation "
            f"accuracy {final}.",
            "the objective returns the validation accuracy: the test set is not for choosing.",
        )
