"""Chapter 09's checks: the search space, as Hydra overrides (9.1), pruning on the validation
accuracy (9.2), the study (9.3), and a real search whose trials are MLflow child runs (9.4).

Each draws several cases: trials fixed on every model and every batch size (9.1); made-up
validation curves that rise, fall, dip and fall behind only at the last epoch, at two levels
(9.2); studies probed with trials that the median rule, and only it, prunes at a known epoch
(9.3); in 9.4, the validation accuracies the training loop measures are planted by the check
(the same values reach the callback, the tracker and the result), so that which trial is
pruned, and at which epoch, is known in advance, and the best epoch is never the last."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

from reproml.env import environment
from reproml.schema import option_name
from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.stores import scratch_store

MODELS = ["logreg", "mlp"]
BATCH_SIZES = [32, 64, 128]
LR_RANGE = (1e-4, 1e-1)
PRUNE_FROM_EPOCH = 2
STARTUP_TRIALS = 2
# trial parameter -> the configuration key it sets
KEYS = {"model": "model.name", "lr": "optimizer.lr", "batch_size": "trainer.batch_size"}


def _reference_pruner() -> Any:
    import optuna

    return optuna.pruners.MedianPruner(STARTUP_TRIALS, n_warmup_steps=PRUNE_FROM_EPOCH)


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


# 9.2: made-up validation curves, 5 epochs each. The first two trials finish (one low, one
# high; both go down before going up). Then: a trial below the median at epoch 2 (but above
# the low trial: no fixed threshold passes); one that falls behind at the last epoch only
# (an answer that asks before reporting is one epoch late, and then never stops it); one that
# falls steadily from above every other (its best-so-far is not its value).
FINISHED_LOW = [0.30, 0.34, 0.31, 0.36, 0.55]
FINISHED_HIGH = [0.84, 0.80, 0.78, 0.79, 0.90]
BELOW_AT_2 = [0.50, 0.48, 0.52, 0.50, 0.51]
BEHIND_AT_LAST = [0.60, 0.62, 0.61, 0.64, 0.66]
FALLING = [0.95, 0.90, 0.85, 0.80, 0.75]


@exercise(
    "9.2",
    "prune on the validation accuracy",
    points=2,
    course_answers=("reproml_course.chapters.pruning.PruneOnValidation",),
    budget=60,
)
def exercise_9_2(PruneOnValidation: Any) -> None:
    """A subclass of reproml.training.Callback whose on_epoch_end(record) calls
    trial.report(value, step) with record.val_accuracy and record.epoch, then raises
    optuna.TrialPruned() when trial.should_prune() says so."""
    import optuna

    from reproml.training import Callback

    rng = random.Random()

    def jittered(curve: list[float]) -> list[float]:
        return [round(v + rng.uniform(-0.004, 0.004), 4) for v in curve]

    study = optuna.create_study(direction="maximize", pruner=_reference_pruner())
    finished: list[list[float]] = []
    for curve in map(jittered, (FINISHED_LOW, FINISHED_HIGH, BELOW_AT_2, BEHIND_AT_LAST, FALLING)):
        trial = study.ask()
        callback = call(PruneOnValidation, trial, what="PruneOnValidation(trial)")
        expect(
            isinstance(callback, Callback),
            f"PruneOnValidation(trial) is a {type(callback).__name__}, not a "
            "reproml.training.Callback: the training loop calls on_batch_end on it too.",
            "subclass Callback and override on_epoch_end only.",
        )
        stopped = _feed(callback, curve, rng)
        if stopped:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, curve[-1])
        reported = dict(study.trials[trial.number].intermediate_values)
        _expect_reported(trial.number, reported, curve, stopped)
        _expect_stopped(trial.number, curve, stopped, len(reported), finished)
        if stopped is None:
            finished.append(curve)


def _pruned_at(finished: list[list[float]], curve: list[float]) -> int | None:
    """The epoch at which the course's pruner stops ``curve``, after ``finished`` trials."""
    import optuna

    study = optuna.create_study(direction="maximize", pruner=_reference_pruner())
    for values in finished:
        study.add_trial(
            optuna.trial.create_trial(
                value=values[-1], intermediate_values=dict(enumerate(values, start=1))
            )
        )
    trial = study.ask()
    for epoch, value in enumerate(curve, start=1):
        trial.report(value, epoch)
        if trial.should_prune():
            return epoch
    return None


def _feed(callback: Any, curve: list[float], rng: random.Random) -> int | None:
    """Epoch records as the training loop sends them; the epoch the callback stopped at."""
    import optuna

    from reproml.training import EpochRecord

    def end_epoch(record: EpochRecord) -> bool:
        try:
            callback.on_epoch_end(record)
        except optuna.TrialPruned:
            return True
        except (NotImplementedError, CheckFailed):
            raise
        except Exception as error:
            raise CheckFailed(
                f"on_epoch_end(record) raised {type(error).__name__}: {error}",
                "Optuna tells a pruned trial from a failed one by optuna.TrialPruned: raise "
                "that, and only when the trial says so.",
            ) from None
        return False

    for epoch, value in enumerate(curve, start=1):
        record = EpochRecord(
            epoch=epoch, train_loss=rng.uniform(0.2, 1.0), train_accuracy=min(1.0, value + 0.05),
            val_accuracy=value, learning_rate=1e-3, seconds=0.1,
        )  # fmt: skip
        if call(end_epoch, record, what="on_epoch_end(record)"):
            return epoch
    return None


def _expect_reported(
    number: int, reported: dict[int, float], curve: list[float], stopped: int | None
) -> None:
    fed = stopped or len(curve)
    expected = dict(enumerate(curve[:fed], start=1))
    good_prefix = reported == dict(enumerate(curve[: len(reported)], start=1))
    expect(
        good_prefix and len(reported) >= fed - 1 and (stopped or len(reported) == fed),
        f"trial {number} reported {reported or 'nothing'}; the loop's validation accuracies "
        f"were {expected} (epoch: value).",
        "report record.val_accuracy as it is (never a training value, nor the best so far), "
        "with the epoch as the step.",
    )


def _expect_stopped(
    number: int, curve: list[float], stopped: int | None, reported: int, finished: list
) -> None:
    due = _pruned_at(finished, curve)
    if stopped == due and (stopped is None or reported == stopped):
        return
    if stopped is not None and reported == stopped - 1:
        raise CheckFailed(
            f"trial {number} was stopped at epoch {stopped} before that epoch's value was "
            "reported: the pruner judged the epochs before it, one epoch late.",
            "report the epoch's value first, then ask should_prune(): it judges what the "
            "trial has reported.",
        )
    if due is None and len(finished) < STARTUP_TRIALS:
        raise CheckFailed(
            f"trial {number} was stopped at epoch {stopped} although only {len(finished)} "
            "trial(s) had finished before it: the pruner waits for finished trials to compare.",
            "ask the trial whether to prune; do not decide yourself.",
        )
    if due is None:
        raise CheckFailed(
            f"trial {number} was stopped at epoch {stopped}, though the pruner did not say so "
            "(its best value stayed above the finished trials' median).",
            "ask the trial whether to prune; do not decide yourself.",
        )
    if stopped is None:
        raise CheckFailed(
            f"trial {number} fell below the finished trials' median at epoch {due}, yet it "
            f"was not stopped (it ran all {len(curve)} epochs).",
            "after reporting, ask the trial whether to prune, at every epoch; Optuna's way to "
            "stop a trial is an exception.",
        )
    raise CheckFailed(
        f"trial {number} was stopped at epoch {stopped}; the pruner asked for it at epoch {due}.",
        "at every epoch, right after reporting, ask the trial whether to prune.",
    )


# 9.3: two finished trials (each a few epochs), then probe trials whose fate the median rule
# with n_startup_trials=2 and n_warmup_steps=2 decides, each in a study of its own.
FINISHED_A = [0.30, 0.50, 0.40, 0.45]
FINISHED_B = [0.70, 0.60, 0.80, 0.75]
STUDY_PROBES = [
    # finished trials, probe curve, epoch it is pruned at, what is wrong otherwise, hint
    (
        [FINISHED_A], [0.05, 0.06, 0.07, 0.08], None,
        "with only one finished trial, a trial below it was pruned at epoch {got}.",
        f"the pruner should wait for {STARTUP_TRIALS} finished trials (n_startup_trials).",
    ),
    (
        [FINISHED_A, FINISHED_B], [0.05, 0.06, 0.07, 0.08], PRUNE_FROM_EPOCH,
        f"after {STARTUP_TRIALS} finished trials, a trial far below them at every epoch was "
        f"{{at}}, not at epoch {PRUNE_FROM_EPOCH}.",
        "median pruning; the first epoch alone says little (a warm-up), and epochs count from 1.",
    ),
    (
        [FINISHED_A, FINISHED_B], [0.90, 0.90, 0.90, 0.90], None,
        "a trial above every finished trial at every epoch was pruned at epoch {got}.",
        "median pruning: a trial below the middle of the finished trials at the same epoch.",
    ),
    (
        [FINISHED_A, FINISHED_B], [0.53, 0.53, 0.53, 0.53], PRUNE_FROM_EPOCH,
        "a trial below the finished trials' median (though not below both) at every epoch was "
        "{at}.",
        "median pruning: a trial below the middle of the finished trials at the same epoch.",
    ),
    (
        [FINISHED_A, FINISHED_B], [0.20, 0.57, 0.58, 0.90], 3,
        "a trial that fell below the finished trials' median at epoch 3 only was {at}.",
        "median pruning, which may stop a trial at every epoch after the warm-up.",
    ),
]  # fmt: skip


@exercise(
    "9.3",
    "a seeded, pruned study",
    points=1,
    course_answers=("reproml_course.chapters.search.make_study",),
    budget=60,
)
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
    draws = _first_draws(study)
    expect(
        draws == _first_draws(call(make_study, seed, what="make_study")),
        f"two studies made with seed {seed} draw different trials.",
        "the sampler takes the seed.",
    )
    expect(
        draws != _first_draws(call(make_study, seed + 1, what="make_study")),
        f"seeds {seed} and {seed + 1} draw the same trials: the seed is not used.",
        "the sampler takes the seed it is given.",
    )
    for finished, probe, due, problem, hint in STUDY_PROBES:
        got = _prune_at(call(make_study, seed, what="make_study"), finished, probe)
        at = f"pruned at epoch {got}" if got else "never pruned"
        expect(got == due, problem.format(got=got, at=at), hint)


def _first_draws(study: Any) -> list[float]:
    from optuna.distributions import FloatDistribution

    draws = []
    for _ in range(3):
        trial = study.ask({"x": FloatDistribution(0, 1)})
        draws.append(trial.params["x"])
        study.tell(trial, draws[-1])
    return draws


def _prune_at(study: Any, finished: list[list[float]], curve: list[float]) -> int | None:
    import optuna

    for values in finished:
        trial = study.ask()
        for epoch, value in enumerate(values, start=1):
            trial.report(value, epoch)
        study.tell(trial, values[-1])
    trial = study.ask()
    for epoch, value in enumerate(curve, start=1):
        trial.report(value, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return epoch
    study.tell(trial, curve[-1])
    return None


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
ENDS_FINISHED = (
    "open the parent run in a `with mlflow.start_run(...)` block around the search: it ends, "
    "FINISHED, when the search does."
)


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
    from reproml import training

    original = training._train_one_epoch
    signature = inspect.signature(original)

    def planted(*args: Any, **kwargs: Any) -> Any:
        cfg = signature.bind(*args, **kwargs).arguments["cfg"]
        _expect_in_the_space(cfg)  # before it trains: another configuration can take minutes
        record = original(*args, **kwargs)
        return dataclasses.replace(record, val_accuracy=value_of(cfg, record.epoch))

    training._train_one_epoch = planted
    try:
        yield
    finally:
        training._train_one_epoch = original


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


def _expect_parent(parent_id: Any) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    expect(
        isinstance(parent_id, str) and bool(parent_id),
        f"run_search returned {parent_id!r}, not the parent run's id.",
        "the run's id is in its info.",
    )
    try:
        parent = MlflowClient().get_run(parent_id)
    except MlflowException:
        raise CheckFailed(
            f"run_search returned {parent_id!r}, which is no run's id in the store.",
            "return the id of the parent run (its info has it), not another id.",
        ) from None
    active = mlflow.active_run()
    if active is not None:
        which = "the parent run" if active.info.run_id == parent_id else "a run"
        raise CheckFailed(
            f"{which} is still open (RUNNING) after run_search returned: it was never ended.",
            ENDS_FINISHED,
        )
    status = parent.info.status
    expect(status == "FINISHED", f"the parent run ended {status}, not FINISHED.", ENDS_FINISHED)


def _expect_trial_runs(study: Any, children: list, n_trials: int) -> None:
    expect(
        len(children) == n_trials,
        f"the run run_search returned has {len(children)} child runs; the study ran "
        f"{n_trials} trials.",
        "open the parent run around the whole search and return its id; the training inside "
        "each trial then makes a child run of it.",
    )
    runs = {run.info.run_name: run for run in children}
    for trial in study.trials:
        run = runs.get(f"trial-{trial.number}")
        expect(
            run is not None,
            f"no child run is named trial-{trial.number} (they are named "
            f"{', '.join(sorted(map(str, runs)))}).",
            "name each trial's run after the trial's number, to find it in MLflow.",
        )
        _expect_trained_as_drawn(trial, run)
        _expect_same_trial(trial, run)
    third = study.trials[2]
    expect(
        third.state.name == "PRUNED" and set(third.intermediate_values) == {1, PRUNE_FROM_EPOCH},
        f"trial 2's validation accuracy stayed far below trials 0 and 1's at every epoch (the "
        f"check plants it), yet it ended {third.state.name}, reporting "
        f"{third.intermediate_values or 'nothing'}.",
        "the training needs the pruning callback, and enough epochs for the pruner to act.",
    )


def _expect_trained_as_drawn(trial: Any, run: Any) -> None:
    expect(
        set(trial.params) == set(KEYS),
        f"trial {trial.number} drew {sorted(trial.params) or 'nothing'}, not the search space "
        f"of trial_overrides ({', '.join(KEYS)}).",
        "the objective draws the trial's values through trial_overrides(trial).",
    )
    params = run.data.params
    for name, key in KEYS.items():
        drawn, logged = trial.params[name], params.get(key)
        same = str(drawn) == logged or (
            isinstance(drawn, float) and logged is not None and _close(drawn, logged)
        )
        expect(
            same,
            f"trial {trial.number} drew {name}={drawn!r}, but its run trained with {key}={logged}.",
            "compose the configuration from every override the trial gives, after the "
            "search's own (a later override wins).",
        )


def _close(value: float, text: str) -> bool:
    try:
        return math.isclose(value, float(text), rel_tol=1e-9)
    except ValueError:
        return False


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
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    logged = {point.step: round(point.value, 6) for point in history}
    reported = {step: round(value, 6) for step, value in trial.intermediate_values.items()}
    expect(
        reported == logged,
        f"trial {trial.number} reported {reported} to Optuna, its run logged the validation "
        f"accuracies {logged}.",
        "report what the training loop measures on the validation images, each epoch.",
    )
    if trial.state.name == "COMPLETE":
        _expect_value(trial, run, logged)


def _expect_value(trial: Any, run: Any, logged: dict[int, float]) -> None:
    """A finished trial's value is its run's final validation accuracy; what else it is, if
    not, says what went wrong."""
    from mlflow import MlflowClient

    final, value = logged[max(logged)], trial.value
    if value is not None and math.isclose(value, final, abs_tol=1e-6):
        return
    train = MlflowClient().get_metric_history(run.info.run_id, "train_accuracy")
    others = [
        (max(logged.values()), "the best epoch's validation accuracy, not the last epoch's (the "
         "model the run keeps)", "return the validation accuracy of the model the training "
         "ends with: the result's metrics hold it."),
        (run.data.metrics.get("test_accuracy", math.nan), "its test accuracy",
         "the objective returns the validation accuracy: the test set is not for choosing."),
        (max(train, key=lambda p: p.step).value if train else math.nan,
         "its training accuracy", "the objective returns the validation accuracy: the training "
         "accuracy says how well the model learnt its own images."),
    ]  # fmt: skip
    said = f"trial {trial.number}'s value is {value}, its run's final validation accuracy {final}"
    for other, what, hint in others:
        if value is not None and math.isclose(value, other, abs_tol=1e-6):
            raise CheckFailed(f"{said}: the value is {what}.", hint)
    raise CheckFailed(
        f"{said}.",
        "the objective returns the validation accuracy of the run it trained, as the result's "
        "metrics hold it.",
    )
