"""Exercise 4.1's failed training: the check makes the student's training fail in its
second epoch, and the run must end FAILED (never RUNNING, nor FINISHED as if it had succeeded,
nor KILLED), with the first epoch's metrics kept."""

from __future__ import annotations

from typing import Any

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.ch04_logged_run import EPOCH_METRICS


class _FailAtEpoch:
    """A training callback that fails, as a crash in the middle of training would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, epoch: int, batch: int, loss: Any) -> None:
        pass

    def on_epoch_end(self, record: Any) -> None:
        if record.epoch == self.epoch:
            raise RuntimeError(f"training failed at epoch {self.epoch} (a check's crash)")


def _runs(experiment: str) -> list:
    from mlflow import MlflowClient

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


FAILED_AS = {
    "RUNNING": "RUNNING: in the UI it would look like a run still going on, forever",
    "FINISHED": "FINISHED, as if it had succeeded: its numbers would pass for a result",
    "KILLED": "KILLED, as if someone had stopped it: nothing says it crashed",
}


def _check_failure(train_and_track: Any, config, experiment: str) -> None:
    """Training fails at the end of its second epoch (the first one is complete)."""
    import mlflow
    from mlflow import MlflowClient

    before = {r.info.run_id for r in _runs(experiment)}
    try:
        train_and_track(config, callbacks=[_FailAtEpoch(2)])
    except TypeError as error:
        if "callbacks" in str(error):
            raise CheckFailed(
                "train_and_track(config, callbacks=[...]) is refused: it should accept "
                "`callbacks` and pass them on to the training.",
            ) from None
        raise CheckFailed(f"train_and_track raised TypeError: {error}") from None
    except RuntimeError:
        pass
    else:
        raise CheckFailed(
            "when training fails mid-run, train_and_track returned as if nothing happened.",
            "let the error reach the caller; the run itself must still be ended.",
        )
    new = [r for r in _runs(experiment) if r.info.run_id not in before]
    expect(
        len(new) == 1,
        f"the failing call made {len(new)} runs, not one.",
        "one call, one run.",
    )
    (run,) = new
    status = run.info.status
    active = " and active" if mlflow.active_run() else ""
    expect(
        status == "FAILED" and not active,
        "when training failed mid-run, the run was left "
        + FAILED_AS.get(status, status)
        + f"{active}. It should be FAILED.",
        "end the run with the status FAILED when anything inside raises; a `with "
        "mlflow.start_run():` block does it for you.",
    )
    client = MlflowClient()
    lost = [
        name
        for name in EPOCH_METRICS
        if 1 not in {m.step for m in client.get_metric_history(run.info.run_id, name)}
    ]
    expect(
        not lost,
        f"training failed in its second epoch, and the failed run has no {', '.join(lost)} "
        "for the first one, which was complete.",
        "log each epoch's metrics when the epoch ends, not after training: a crashed run "
        "keeps its curves up to the crash.",
    )
