"""``reproml-course sync``: upload the runs kept locally while the tracking server was down.

Each waiting run (tagged ``reproml.sync_to`` in ``outputs/unsynced/mlflow.db``) is copied to
its server whole: parameters, every metric with its steps and times, tags, data set inputs,
artifacts and the model. The half-logged run the server kept from before it dropped is marked
FAILED and points to its replacement. The local copy stays, tagged with the new run's id as soon
as it is uploaded, so a second sync uploads nothing twice, even if the server refused to mark
the half-logged run or the sync stopped halfway (the server's copy names its local run).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from reproml.base.logs import no_mlflow_progress_bars, quiet_loggers
from reproml.tracking.stores import (
    SERVER_RUN,
    SYNC_TO,
    check_tracking_uri,
    experiment_id,
    sqlite_path,
    unsynced_store_uri,
)

SYNCED_AS = "reproml.synced_as"
COPIED_FROM = "reproml.copied_from"
REPLACED_BY = "reproml.replaced_by"
BATCH = 1000  # MLflow accepts at most 1,000 metrics per log_batch call


@dataclass(frozen=True)
class SyncedRun:
    local_id: str
    server: str
    server_id: str
    note: str | None = None  # what could not be done on the server, said once


def waiting_runs(local_uri: str) -> list:
    """The local runs not uploaded yet."""
    from mlflow import MlflowClient

    if not sqlite_path(local_uri).is_file():
        return []
    client = MlflowClient(local_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, max_results=10_000) if experiments else []
    return [r for r in runs if SYNC_TO in r.data.tags and SYNCED_AS not in r.data.tags]


def sync_runs(local_uri: str | None = None, server: str | None = None) -> list[SyncedRun]:
    """Upload every waiting run to its server (or to ``server``); return what was uploaded."""
    local_uri = local_uri or unsynced_store_uri()
    if not sqlite_path(local_uri).is_file():
        return []  # nothing was ever kept: no store is created to find that out
    from mlflow import MlflowClient

    local = MlflowClient(local_uri)
    synced = []
    # No download bars, table-creation notes or "View run" links: one line per run, from the CLI.
    with no_mlflow_progress_bars(), quiet_loggers("mlflow", "alembic"):
        for run in waiting_runs(local_uri):
            target_uri = server or run.data.tags[SYNC_TO]
            check_tracking_uri(target_uri)
            experiment = local.get_experiment(run.info.experiment_id).name
            new_id = _uploaded_before(target_uri, experiment, run.info.run_id) or copy_run(
                local_uri, run.info.run_id, target_uri, experiment
            )
            # Marked at once: whatever happens next, this run is never uploaded twice.
            local.set_tag(run.info.run_id, SYNCED_AS, new_id)
            note = _retire(target_uri, run.data.tags.get(SERVER_RUN), new_id)
            synced.append(SyncedRun(run.info.run_id, target_uri, new_id, note))
    return synced


def _uploaded_before(target_uri: str, experiment: str, local_id: str) -> str | None:
    """The server's copy of a local run, if an earlier sync stopped before marking it."""
    from mlflow import MlflowClient

    target = MlflowClient(target_uri)
    found = target.get_experiment_by_name(experiment)
    if found is None:
        return None
    runs = target.search_runs(
        [found.experiment_id], f"tags.`{COPIED_FROM}` = '{local_id}'", max_results=1
    )
    return runs[0].info.run_id if runs else None


def _retire(target_uri: str, partial: str | None, new_id: str) -> str | None:
    """Mark the half-logged server run FAILED and point it to its copy; say why if refused."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    if not partial:
        return None
    target = MlflowClient(target_uri)
    try:
        target.set_tag(partial, REPLACED_BY, new_id)
        target.set_terminated(partial, "FAILED")
    except MlflowException as error:
        reason = error.message.strip().splitlines()[0][:120]
        return f"the half-logged run {partial} could not be marked FAILED ({reason})"
    return None


def copy_run(source_uri: str, run_id: str, target_uri: str, experiment: str) -> str:
    """Copy one run, whole, into ``experiment`` at ``target_uri``; return the new run's id."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    source, target = MlflowClient(source_uri), MlflowClient(target_uri)
    run = source.get_run(run_id)
    skip = {SYNC_TO, SERVER_RUN, "model_uri"}
    tags = {k: v for k, v in run.data.tags.items() if k not in skip}
    new = target.create_run(
        experiment_id(target_uri, experiment),
        start_time=run.info.start_time,
        tags={**tags, COPIED_FROM: run_id},
        run_name=run.info.run_name,
    )
    new_id = new.info.run_id
    params = [Param(k, v) for k, v in run.data.params.items()]
    for start in range(0, len(params), 100):
        target.log_batch(new_id, params=params[start : start + 100])
    metrics = [
        Metric(m.key, m.value, m.timestamp, m.step)
        for key in run.data.metrics
        for m in source.get_metric_history(run_id, key)
    ]
    for start in range(0, len(metrics), BATCH):
        target.log_batch(new_id, metrics=metrics[start : start + BATCH])
    if run.inputs and run.inputs.dataset_inputs:
        target.log_inputs(new_id, datasets=run.inputs.dataset_inputs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = source.download_artifacts(run_id, "", tmp)
        if any(Path(folder).iterdir()):
            target.log_artifacts(new_id, folder)
    model_uri = run.data.tags.get("model_uri")
    if model_uri:
        _copy_model(source_uri, model_uri, target_uri, new_id)
    target.set_terminated(new_id, run.info.status, end_time=run.info.end_time)
    return new_id


def _copy_model(source_uri: str, model_uri: str, target_uri: str, run_id: str) -> None:
    """Copy the model's files into a new logged model of the new run (an MLflow 3 model lives
    beside its run, not in it). Files, not a reloaded model: nothing is unpickled or exported
    again, and no fluent run is opened (the caller's active experiment cannot get in the way).
    """
    import mlflow
    from mlflow import MlflowClient

    source, target = MlflowClient(source_uri), MlflowClient(target_uri)
    model = source.get_logged_model(model_uri.removeprefix("models:/"))
    experiment = target.get_run(run_id).info.experiment_id
    copy = target.create_logged_model(
        experiment, name=model.name, source_run_id=run_id, tags=model.tags, params=model.params
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = mlflow.artifacts.download_artifacts(
            artifact_uri=model.artifact_location, dst_path=tmp, tracking_uri=source_uri
        )
        target.log_model_artifacts(copy.model_id, folder)
    target.finalize_logged_model(copy.model_id, "READY")
    target.set_tag(run_id, "model_uri", f"models:/{copy.model_id}")
