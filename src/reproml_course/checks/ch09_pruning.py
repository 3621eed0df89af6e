"""Chapter 09's check of pruning on the validation accuracy (9.2): made-up validation
curves that rise, fall, dip and fall behind only at the last epoch, at two levels, fed to the
student's callback epoch by epoch; each must be reported as it is and stopped exactly where
the median rule stops it."""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch09_space import STARTUP_TRIALS, _reference_pruner

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
