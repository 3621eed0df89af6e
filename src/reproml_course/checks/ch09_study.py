"""Chapter 09's check of the study (9.3): seeded, maximising, pruned by the median rule;
each study the student's function makes is probed with trials that the median rule, and only
it, prunes at a known epoch."""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import call, exercise, expect
from reproml_course.checks.ch09_space import PRUNE_FROM_EPOCH, STARTUP_TRIALS

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
