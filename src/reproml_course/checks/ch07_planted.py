"""Exercise 7.1's planted experiments: drawn afresh in a scratch store, runs of every
terminal status (and one still running) that beat the finished ones on validation, a deleted
run that beats them too, a run without a validation accuracy, a run whose best epoch beat the
others but whose last did not, the best on the test set never the best on validation, and a
better run in another experiment. The student's ``submission`` must pick the finished run with
the best validation accuracy, and leave the store as it found it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from reproml.tracking.stores import COMPETITION
from reproml_course.checks.base import CheckFailed, call, expect
from reproml_course.checks.ch07_snapshots import _check_unchanged, _snapshot


@dataclass
class Planted:
    """A run the check makes: its status, whether deleted, its validation curve, its test."""

    status: str = "FINISHED"
    val: list[float] | None = None  # validation accuracy per epoch; None: never logged
    test: float = 0.8
    deleted: bool = False
    run_id: str = ""
    note: str = ""  # what it is, for the messages


@dataclass
class Case:
    runs: list[Planted]

    def best(self) -> set[str]:
        """The finished runs with the best last validation accuracy (ties all accepted)."""
        finished = [r for r in self.runs if _entry(r)]
        top = max(r.val[-1] for r in finished)
        return {r.run_id for r in finished if r.val[-1] == top}


def _entry(run: Planted) -> bool:
    return run.status == "FINISHED" and not run.deleted and run.val is not None


def _cases(rng: random.Random) -> list[Case]:
    """Three experiments, each with its edges; the values drawn, the best's place varied.
    (Better than all of them, a run of another experiment: the active one.)"""
    base = rng.uniform(0.70, 0.80)
    tops = sorted(rng.sample(range(1, 90), 4))  # the finished runs differ from the 4th digit
    finished = [Planted(val=[base - 0.05, base + t / 10_000]) for t in tops]
    # The best on validation (finished[3]), the worst (0), the best on test (1) and the latest
    # (2) are four runs: each wrong choice shows as what it is.
    for run, test in zip(finished, (0.88, 0.90, 0.84, 0.86), strict=True):
        run.test = test
    best = base + tops[-1] / 10_000
    beaters = [
        Planted(status="FAILED", val=[best + 0.05], test=0.95, note="FAILED"),
        Planted(status="KILLED", val=[best + 0.04], test=0.94, note="KILLED"),
        Planted(status="RUNNING", val=[best + 0.03], test=0.93, note="still RUNNING"),
        Planted(val=[best + 0.06, best + 0.02], test=0.96, deleted=True, note="deleted"),
    ]
    between = [*beaters, finished[0], finished[1]]
    rng.shuffle(between)
    # The best finished run created first, the latest neither the best on validation nor on
    # test: choosing the most recent run, or on test, shows as what it is.
    first = [finished[3], *between, finished[2]]
    second_base = rng.uniform(0.6, 0.9)
    second = [  # a single finished run with a validation accuracy
        Planted(status="FAILED", val=[second_base + 0.05], test=0.9, note="FAILED"),
        Planted(val=[second_base - 0.1, second_base], test=0.5),
        Planted(val=None, test=0.99, note="no validation accuracy"),
    ]
    third_base = rng.uniform(0.7, 0.8)
    peak = Planted(val=[third_base, third_base + 0.15, third_base - 0.01], test=0.85,
                   note="best epoch, not last")  # fmt: skip
    winner = Planted(val=[third_base - 0.02, third_base + 0.01], test=0.80)
    third = [Planted(val=[third_base - 0.03], test=0.97), winner, peak,
             Planted(val=[third_base - 0.04], test=0.81)]  # fmt: skip
    rng.shuffle(third)
    third.remove(winner)
    third.append(winner)  # the best created last
    return [Case(first), Case(second), Case(third)]


def _check_on_planted_experiments(submission: Any) -> None:
    import mlflow

    from reproml_course.checks.stores import scratch_store

    rng = random.Random()
    with scratch_store("check-7.1"):  # (its URI is in $MLFLOW_TRACKING_URI meanwhile, too)
        uri = mlflow.get_tracking_uri()
        client = mlflow.MlflowClient(uri)
        active = client.get_experiment_by_name("check-7.1").experiment_id
        elsewhere = [Planted(val=[0.99], test=0.99, note="another experiment")]
        _plant(client, active, elsewhere)
        for number, case in enumerate(_cases(rng)):
            name = f"{COMPETITION}/team-{rng.randrange(10**6):06d}-{number}"
            experiment = client.create_experiment(name)
            _plant(client, experiment, case.runs)
            before = _snapshot(client)
            got = call(submission, name, what=f"submission({name!r})")
            expect(
                mlflow.active_run() is None,
                "submission left an MLflow run active.",
                "choosing a run only reads the store: no run to start.",
            )
            _check_unchanged(client, before)
            _judge(got, case, elsewhere, name)


def _plant(client, experiment: str, runs: list[Planted]) -> None:
    from mlflow.entities import Metric

    for run in runs:
        made = client.create_run(experiment)
        run.run_id = made.info.run_id
        stamp = made.info.start_time
        metrics = [Metric("test_accuracy", run.test, stamp, 0)]
        for epoch, value in enumerate(run.val or [], start=1):
            metrics.append(Metric("val_accuracy", value, stamp + epoch, epoch))
        client.log_batch(run.run_id, metrics=metrics)
        if run.status != "RUNNING":
            client.set_terminated(run.run_id, run.status)
        if run.deleted:
            client.delete_run(run.run_id)


def _judge(got: Any, case: Case, elsewhere: list[Planted], experiment: str) -> None:
    expect(
        isinstance(got, str),
        f"submission returned {type(got).__name__} {got!r}, not a run id.",
        "return the chosen run's info.run_id (a text).",
    )
    if got in case.best():
        return
    runs = {r.run_id: r for r in case.runs}
    chosen = runs.get(got) or next((r for r in elsewhere if r.run_id == got), None)
    expect(
        chosen is not None,
        f"submission({experiment!r}) returned {got!r}, not the id of one of its runs.",
        "return the chosen run's info.run_id.",
    )
    finished = [r for r in case.runs if _entry(r)]
    if chosen.note == "another experiment":
        raise CheckFailed(
            "submission chose a run of another experiment than the one it was given.",
            "search the experiment named by its argument only.",
        )
    if chosen.deleted:
        raise CheckFailed(
            "submission chose a deleted run: it is still in the store, but no longer an entry.",
            "search the active runs only (the default of the search functions).",
        )
    if chosen.status != "FINISHED":
        raise CheckFailed(
            f"submission chose a run that is {chosen.note}, over the finished ones: only a "
            "finished run is an entry.",
            "keep the finished runs, all other statuses left out (a run can end FAILED or "
            "KILLED, or still be RUNNING).",
        )
    if chosen.val is None:
        raise CheckFailed(
            "submission chose a run that has no validation accuracy.",
            "choose on validation.",
        )
    if chosen.note == "best epoch, not last":
        raise CheckFailed(
            "submission chose a run whose best epoch beat the others on validation, but not "
            "its last: the model it logged is the last epoch's.",
            "a run's metric value is the last one it logged.",
        )
    if chosen.test == max(r.test for r in finished):
        raise CheckFailed(
            "submission chose the finished run with the best test accuracy: the test set chose it.",
            "choose on validation; the test set judges only the run you submit.",
        )
    if len(finished) > 1 and chosen.val[-1] == min(r.val[-1] for r in finished):
        raise CheckFailed(
            "submission chose the finished run with the lowest validation accuracy "
            f"({chosen.val[-1]:.4f}), where another has {max(r.val[-1] for r in finished):.4f}: "
            "the worst first.",
            "runs are sorted in ascending order unless you say otherwise: "
            "order_by=['metrics.val_accuracy DESC'].",
        )
    raise CheckFailed(
        f"submission chose a finished run with validation accuracy {chosen.val[-1]:.4f}, where "
        f"another has {max(r.val[-1] for r in finished):.4f}.",
        "compare every finished run of the experiment on validation, the best first.",
    )
