"""A throwaway MLflow store for a check, and the notebook's own store and experiment put back
afterwards (chapters 04-06)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reproml.checks.base import CheckFailed


@contextlib.contextmanager
def scratch_store(experiment: str) -> Iterator[Path]:
    """A store and an active experiment of the check's own; everything put back after."""
    import mlflow
    from mlflow.tracking import fluent

    if mlflow.active_run() is not None:
        raise CheckFailed(
            "an MLflow run is still active in this notebook, so the check cannot start its own.",
            "end it (mlflow.end_run()), then run this cell again; a `with` block ends it for you.",
        )
    previous_uri = mlflow.get_tracking_uri()
    previous_experiment = fluent._active_experiment_id
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        try:
            mlflow.create_experiment(experiment, artifact_location=str(Path(tmp) / "artifacts"))
            mlflow.set_experiment(experiment)
            yield Path(tmp)
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run("KILLED")
            mlflow.set_tracking_uri(previous_uri)
            fluent._active_experiment_id = previous_experiment
