"""Chapter 07: the submission. A run the verified leaderboard can rank, chosen on validation.

The check reads the store the notebook logs to (the class server, or the local store in
self-study): the run finished, sits in a competition experiment, logged its own model, tested
on the whole test set, and has the best validation accuracy among that experiment's finished
runs, of which there are at least two (a search, however small). Where the leaderboard has
already judged the run, its verdict must be a ranking.
"""

from __future__ import annotations

from typing import Any

from reproml.checks.base import CheckFailed, exercise, expect
from reproml.classroom.records import VERDICT_TAG
from reproml.tracking.stores import COMPETITION


@exercise("7.1", "submit a run the leaderboard ranks, chosen on validation", points=2)
def exercise_7_1(run_id: Any) -> None:
    """mlflow.search_runs(experiment_names=..., filter_string=..., order_by=...,
    output_format='list') filters on `attributes.status` and sorts on `metrics.<name> DESC`; a
    run's id is run.info.run_id."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    expect(isinstance(run_id, str), f"submission should be a run id (text), got {run_id!r}.")
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise CheckFailed(
            f"there is no run {run_id!r} in {mlflow.get_tracking_uri()}.",
            "return run.info.run_id of a run logged to this store.",
        ) from None
    experiment = client.get_experiment(run.info.experiment_id)
    expect(
        experiment.name.startswith(f"{COMPETITION}/"),
        f"the run is in experiment {experiment.name!r}, not in your competition experiment.",
        "the leaderboard only looks at competition/<team> experiments.",
    )
    expect(run.info.status == "FINISHED", f"the run ended {run.info.status}, not FINISHED.")
    test_size = run.data.params.get("data.test_size", "None")
    expect(
        test_size in ("None", "null", ""),
        f"the run was tested on {test_size} images only: the leaderboard does not rank a run "
        "whose configuration changes the test set.",
        "keep data.test_size=null for every entry.",
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
    verdict = run.data.tags.get(VERDICT_TAG, "")
    expect(
        not verdict.startswith("flagged"),
        f"the leaderboard has already judged this run: {verdict}",
        "submit another run, trained by the course's code on the whole test set.",
    )


def _check_chosen_on_validation(client, run) -> None:
    others = client.search_runs(
        [run.info.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        max_results=5000,
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
    if mine < best and by_test.info.run_id == run.info.run_id:
        raise CheckFailed(
            "you submitted the run with the best test accuracy: the test set chose it.",
            "choose on validation; the leaderboard's test set judges once.",
        )
    expect(
        mine >= best,
        f"another finished run of your experiment has a better validation accuracy "
        f"({best:.4f} against {mine:.4f}).",
        "compare every finished run of the experiment on validation.",
    )
