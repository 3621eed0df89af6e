"""One submitted run tested for the leaderboard: the model the run itself logged, in its
own experiment (on the class server, stored there), checked as plain weights of one of the
course's models before anything is evaluated, then evaluated by the worker process; weights or
answers identical to another team's earlier run are pointed out in the verdict, which ranks
them all the same."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from reproml.base.logs import no_mlflow_progress_bars, quiet_loggers
from reproml.tracking.stores import is_server
from reproml_course.classroom.evaluator import Limits
from reproml_course.classroom.model_files import (
    MODEL_FILE,
    Rejected,
    check_model_folder,
    model_files,
    read_weights,
)
from reproml_course.classroom.model_spec import model_spec
from reproml_course.classroom.records import Verdict


def _remember(seen: dict[str, Verdict], verdict: Verdict) -> None:
    """``seen``: the earliest verdict of each weights' digest and of each answers' digest."""
    for digest in (verdict.weights_sha256, verdict.predictions_sha256):
        if digest:
            seen.setdefault(digest, verdict)


def _models_by_run(client, runs: dict[str, str]) -> dict:
    """{run id: the model it logged}, for ``runs`` ({run id: its experiment id}). Only a model
    in the run's own experiment counts: anyone who may read a run may create a model in their
    own experiment naming that run as its source. When a run logged several, the last one."""
    models, token = {}, None
    experiment_ids = sorted(set(runs.values()))
    while True:
        page = client.search_logged_models(experiment_ids, max_results=1000, page_token=token)
        for model in page:
            own = runs.get(model.source_run_id) == model.experiment_id
            if own and str(model.status).endswith("READY"):
                previous = models.get(model.source_run_id)
                if previous is None or model.creation_timestamp > previous.creation_timestamp:
                    models[model.source_run_id] = model
        token = page.token
        if not token:
            return models


def _verify(run, team, model, client, evaluator, seen, tmp, limits, uri) -> Verdict:
    logged = run.data.metrics.get("test_accuracy", math.nan)
    verdict = Verdict(
        run_id=run.info.run_id,
        team=team,
        team_id=run.info.experiment_id,
        run_name=run.info.run_name or "",
        user=run.info.user_id or run.data.tags.get("mlflow.user", ""),
        logged=logged,
        verified=math.nan,
        problem="",
        model_id=getattr(model, "model_id", ""),
    )
    try:
        weights = _check(run, model, client, tmp, limits, uri)
        verdict = replace(verdict, weights_sha256=weights.sha256)
        earlier = seen.get(weights.sha256)
        if earlier is not None and earlier.team_id != verdict.team_id:
            # Ranked all the same: the same configuration and seed give the same weights (the
            # course's point), so a copy cannot be told from an honest twin. Said, though.
            verdict = replace(verdict, note=f"same weights as {earlier.team}'s {earlier.run_id}")
        correct, predictions = evaluator.evaluate(weights, model_spec(run.data.params))
        n = evaluator.test_images
        verdict = replace(
            verdict, verified=correct / n, test_images=n, predictions_sha256=predictions,
            test_set_sha256=evaluator.test_set_sha256,
        )  # fmt: skip
        twin = seen.get(predictions)
        if not verdict.note and twin is not None and twin.team_id != verdict.team_id:
            # Weights changed by a rounding error hash differently, yet answer alike: two
            # models trained apart do not give the same class to all 10,000 test images.
            verdict = replace(
                verdict, note=f"same answer on every test image as {twin.team}'s {twin.run_id}"
            )
    except Rejected as rejected:
        return replace(verdict, problem=str(rejected))
    return verdict


def _check(run, model, client, tmp: Path, limits: Limits, uri: str):
    """The run's own checks, before anything is evaluated; the model's weights, indexed."""
    if model is None:
        raise Rejected("it logged no model of its own (a model_uri tag is not enough)")
    if is_server(uri) and not model.artifact_location.startswith("mlflow-artifacts:"):
        raise Rejected("its model is stored outside the class server")
    check_model_folder(model_files(client, model.model_id), limits.model_bytes)
    import mlflow

    folder = tmp / model.model_id
    with no_mlflow_progress_bars(), quiet_loggers("mlflow"):
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model.artifact_location.rstrip('/')}/{MODEL_FILE}",
            dst_path=str(folder),
            tracking_uri=uri,
        )
    return read_weights(Path(path), limits.model_bytes)
