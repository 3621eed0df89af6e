"""Exercise 7.1 on the store the notebook logs to (the class server, or the local store in
self-study), for the team's experiment: the run the student's ``submission`` picks finished,
logged its own model, was not tested, has the best validation accuracy among the experiment's
finished runs (deleted or failed runs that beat it during this session included), and is the
team's latest submission; where the leaderboard already judged it, its verdict is a ranking."""

from __future__ import annotations

import math
from typing import Any

from reproml.tracking.stores import COMPETITION
from reproml_course.checks.base import CheckFailed, call, expect
from reproml_course.checks.ch07_snapshots import _experiment_snapshot
from reproml_course.classroom.records import VERDICT_TAG, Records
from reproml_course.classroom.submissions import submitted_value, tested_metrics


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
        "submit another run, trained by the course's code with its model logged: the "
        "leaderboard evaluates that model on the whole test set.",
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
