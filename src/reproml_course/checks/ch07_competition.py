"""Chapter 07: the submission. A run the verified leaderboard can rank, chosen on validation.

The check runs the student's ``submission(experiment)`` twice over:

- on experiments of its own, in a scratch store, drawn afresh: runs of every terminal status
  (and one still running) that beat the finished ones on validation, a deleted run that beats
  them too, a run without a validation accuracy, a run whose best epoch beat the others but whose
  last did not, the best on the test set never the best on validation, validation accuracies
  that differ in the fourth digit, the best run first, last or in the middle, a single finished
  run, and a better run in another experiment (the active one). The function must pick the
  finished run with the best validation accuracy, and leave the store as it found it;
- on the store the notebook logs to (the class server, or the local store in self-study), for
  the team's experiment: the run it picks finished, logged its own model, was not tested (in
  the competition only a submitted run is, by the leaderboard), has the best validation
  accuracy among the experiment's finished runs (at least two: a search, however small), and
  is the team's latest submission (the latest ``reproml.submitted`` tag of the experiment).
  Runs that beat it and were deleted, or marked failed after they finished (they hold their
  model), during this session of the notebook do not escape: the submission must beat them too.
  Where the leaderboard has already judged the run (its records, which only the instructor
  writes), its verdict must be a ranking.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from reproml.tracking.stores import COMPETITION
from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.classroom.records import VERDICT_TAG, Records
from reproml_course.classroom.submissions import submitted_value, tested_metrics


@exercise("7.1", "submit a run the leaderboard ranks, chosen on validation", points=2, budget=120)
def exercise_7_1(submission: Any, experiment: Any = None) -> None:
    """mlflow.search_runs(experiment_names=..., filter_string=..., order_by=...,
    output_format='list') filters on `attributes.status` and sorts on `metrics.<name> DESC`; a
    run's id is run.info.run_id."""
    expect(
        callable(submission),
        f"the check takes your function submission itself, not {type(submission).__name__} "
        f"{submission!r}.",
        "call it as checks.exercise_7_1(submission, experiment): it runs your function.",
    )
    expect(
        isinstance(experiment, str) and experiment.startswith(f"{COMPETITION}/"),
        f"the second argument should be your competition experiment's name, got {experiment!r}.",
        "pass `experiment`, as the cell above defines it (competition/<team>).",
    )
    _check_on_planted_experiments(submission)
    _check_the_real_submission(submission, experiment)


# ---------------------------------------------------------------- planted experiments


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


def _snapshot(client) -> dict:
    from mlflow.entities import ViewType

    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(experiments, run_view_type=ViewType.ALL, max_results=50_000)
    return {r.info.run_id: _state(r) for r in runs}


def _state(run) -> tuple:
    """What choosing a run must leave as it was: its status, whether deleted, its tags,
    parameters and metrics (a tag such as `submitted=true` is a write too)."""
    data = run.data
    return (
        run.info.status,
        run.info.lifecycle_stage,
        tuple(sorted(data.tags.items())),
        tuple(sorted(data.params.items())),
        tuple(sorted(data.metrics.items())),
    )


def _check_unchanged(client, before: dict) -> None:
    after = _snapshot(client)
    changed = [run for run, state in before.items() if after.get(run) != state]
    expect(
        not changed and after.keys() == before.keys(),
        "submission changed the store: it deleted, ended, created or wrote to runs"
        + (f" ({len(changed)} runs changed)." if changed else "."),
        "choosing a run only reads the store; every run stays as its training left it.",
    )


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


# ---------------------------------------------------------------- the real submission


def _check_the_real_submission(submission: Any, experiment: str) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = mlflow.get_tracking_uri()
    client = mlflow.MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    expect(
        found is not None,
        f"there is no experiment {experiment!r} in {uri}.",
        "run the entry and the search above first: they create it.",
    )
    before = _experiment_snapshot(client, found.experiment_id)
    run_id = call(submission, experiment, what=f"submission({experiment!r})")
    expect(
        _experiment_snapshot(client, found.experiment_id) == before,
        "submission changed your experiment: it deleted, ended, created or wrote to runs.",
        "choosing a run only reads the store; every run stays as its training left it.",
    )
    expect(isinstance(run_id, str), f"submission returned {run_id!r}, not a run id (text).")
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise CheckFailed(
            f"submission({experiment!r}) returned {run_id!r}, not the id of a run in {uri}.",
            "return the chosen run's info.run_id.",
        ) from None
    expect(
        run.info.experiment_id == found.experiment_id,
        f"submission chose a run of another experiment than {experiment!r}.",
        "search the experiment named by its argument only.",
    )
    _check_submitted_run(client, run, uri)


def _experiment_snapshot(client, experiment_id: str) -> dict:
    from mlflow.entities import ViewType

    runs = client.search_runs([experiment_id], run_view_type=ViewType.ALL, max_results=50_000)
    return {r.info.run_id: _state(r) for r in runs}


def _check_submitted_run(client, run, uri: str) -> None:
    from mlflow.exceptions import MlflowException

    run_id = run.info.run_id
    expect(run.info.lifecycle_stage == "active", "the chosen run is deleted.")
    expect(run.info.status == "FINISHED", f"the run ended {run.info.status}, not FINISHED.")
    tested = tested_metrics(run)
    expect(
        not tested,
        f"the run was tested before it was submitted ({', '.join(tested)} logged): the "
        "leaderboard refuses it, and its test accuracy was there for everyone to choose by.",
        "train every competition run with data.test=false, and choose on validation.",
    )
    model_uri = run.data.tags.get("model_uri", "")
    expect(
        model_uri.startswith("models:/"),
        "the run logged no model: the leaderboard ranks models, not numbers.",
        "train it with the course's tracking (tracking=mlflow), which logs the model.",
    )
    try:
        model = client.get_logged_model(model_uri.removeprefix("models:/"))
    except MlflowException:
        raise CheckFailed(f"the run's model {model_uri} cannot be found in this store.") from None
    expect(
        model.source_run_id == run_id,
        "the run points at a model another run logged: it would be flagged.",
        "submit the run that trained and logged the model.",
    )
    _check_chosen_on_validation(client, run)
    _check_no_hidden_better_run(client, run, uri)
    _check_latest_submission(client, run)
    verdict = Records(client, COMPETITION).verdicts().get(run_id)
    said = verdict.summary if verdict is not None else run.data.tags.get(VERDICT_TAG, "")
    expect(
        not said.startswith("flagged"),
        f"the leaderboard has already judged this run: {said}",
        "submit another run, trained by the course's code on the whole test set.",
    )


def _check_chosen_on_validation(client, run) -> None:
    others = client.search_runs(
        [run.info.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        max_results=50_000,
    )
    scored = [r for r in others if "val_accuracy" in r.data.metrics]
    expect(
        len(scored) >= 2,
        f"your competition experiment holds {len(scored)} finished run(s) with a validation "
        "accuracy: a choice needs at least two.",
        "run the small search above first.",
    )
    best = max(r.data.metrics["val_accuracy"] for r in scored)
    mine = run.data.metrics.get("val_accuracy", float("nan"))
    by_test = max(scored, key=lambda r: r.data.metrics.get("test_accuracy", 0.0))
    if not mine >= best and by_test.info.run_id == run.info.run_id:
        raise CheckFailed(
            "you submitted the run with the best test accuracy: the test set chose it.",
            "choose on validation; the test set judges only the run you submit.",
        )
    expect(
        mine >= best,
        f"another finished run of your experiment has a better validation accuracy "
        f"({best:.4f} against {mine:.4f}).",
        "compare every finished run of the experiment on validation.",
    )


def _check_no_hidden_better_run(client, run, uri: str) -> None:
    """Runs that trained to the end (they logged their model and their test accuracy) but were
    deleted, or are marked anything but FINISHED, since this notebook's runs began: a better
    one among them is a choice made by hiding the others."""
    from mlflow.entities import ViewType

    runs = client.search_runs(
        [run.info.experiment_id], run_view_type=ViewType.ALL, max_results=50_000
    )
    live = [r for r in runs if r.info.lifecycle_stage == "active"]
    began = min((r.info.start_time for r in live), default=0)
    deleted_at = _deletion_times(uri, run.info.experiment_id)
    mine = run.data.metrics["val_accuracy"]
    for other in runs:
        deleted = other.info.lifecycle_stage != "active"
        hidden = deleted or other.info.status != "FINISHED"
        completed = other.data.tags.get("model_uri", "").startswith("models:/")
        value = other.data.metrics.get("val_accuracy", -math.inf)
        if not (hidden and completed and value > mine):
            continue
        if deleted and deleted_at.get(other.info.run_id, math.inf) < began:
            continue  # deleted before this notebook's runs began: an earlier execution's
        if tested_metrics(other):
            continue  # never an entry: tested
        how = "was deleted" if deleted else f"is marked {other.info.status}"
        raise CheckFailed(
            f"a run of your experiment that trained to the end and logged its model {how}, and "
            f"its validation accuracy beats your submission's ({value:.4f} against {mine:.4f}).",
            "submit the best finished run on validation; hiding the others does not change "
            "which one that is.",
        )


def _check_latest_submission(client, run) -> None:
    """The team's entry is its latest submission (the leaderboard's policy): it must be the run
    chosen. Latest by the time the tag records, as the leaderboard orders one pass's tags."""
    runs = client.search_runs([run.info.experiment_id], max_results=50_000)
    submitted = [r for r in runs if submitted_value(r)]
    expect(
        bool(submitted),
        "no run of your experiment is submitted yet: the leaderboard tests only submitted runs.",
        "run the cell above: submit_run(submitted).",
    )
    latest = max(submitted, key=submitted_value)
    expect(
        latest.info.run_id == run.info.run_id,
        f"your team's latest submission is {latest.info.run_name or latest.info.run_id!r} "
        f"({latest.info.run_id}), not the run chosen on validation ({run.info.run_id}): the "
        "latest submission is the team's entry.",
        "submit the run your function chooses: submit_run(submitted).",
    )


def _deletion_times(uri: str, experiment_id: str) -> dict[str, int]:
    """{run id: when it was deleted (ms)} where the store says (a local SQLite store); a
    server does not, so there every deleted run counts."""
    import sqlite3

    from reproml.tracking.stores import sqlite_path

    if not uri.startswith("sqlite:"):
        return {}
    try:
        with sqlite3.connect(f"file:{sqlite_path(uri)}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT run_uuid, deleted_time FROM runs WHERE experiment_id = ? "
                "AND deleted_time IS NOT NULL",
                (int(experiment_id),),
            ).fetchall()
    except (sqlite3.Error, ValueError):
        return {}
    return dict(rows)
