"""A throwaway MLflow store for a check, and the notebook's own store and experiment put back
afterwards (chapters 04-07, 09).

Creating an MLflow database runs its migrations, seconds of work; a store is therefore a copy
of an empty one made once per process (a check that draws several cases, or a notebook with
several checks, pays that once).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reproml_course.checks.base import CheckFailed

_EMPTY_STORE: list[Path] = []  # the empty database, once made


def _empty_store_copy(folder: Path) -> str:
    """The URI of a new, empty SQLite store in ``folder``: a copy of the process's empty one."""
    if not (_EMPTY_STORE and _EMPTY_STORE[0].is_file()):
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        home = Path(tempfile.mkdtemp(prefix="reproml-empty-store-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        store = SqlAlchemyStore(f"sqlite:///{home / 'mlflow.db'}", str(home / "artifacts"))
        store.engine.dispose()  # every change is on disk, no connection left open
        _EMPTY_STORE[:] = [home / "mlflow.db"]
    shutil.copyfile(_EMPTY_STORE[0], folder / "mlflow.db")
    return f"sqlite:///{folder / 'mlflow.db'}"


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
        mlflow.set_tracking_uri(_empty_store_copy(Path(tmp)))
        try:
            mlflow.create_experiment(experiment, artifact_location=str(Path(tmp) / "artifacts"))
            mlflow.set_experiment(experiment)
            yield Path(tmp)
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run("KILLED")
            mlflow.set_tracking_uri(previous_uri)
            fluent._active_experiment_id = previous_experiment
