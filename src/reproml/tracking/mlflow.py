"""Chapter 04 on: every run in an MLflow store, with everything needed to trace and redo it.

What a run holds is in ``reproml.tracking.record``. The store is a SQLite file at the repository
root unless ``tracking.uri`` or ``MLFLOW_TRACKING_URI`` names another one, such as a class server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from reproml.base.env import environment
from reproml.base.errors import ConfigError
from reproml.base.logs import quiet_loggers
from reproml.schema import option_name
from reproml.tracking.base import Kept, Tracker
from reproml.tracking.record import (
    epoch_metrics,
    log_run_results,
    log_run_setup,
    run_tags,
)
from reproml.tracking.stores import (
    SERVER_RETRIES,
    SERVER_RUN,
    SYNC_TO,
    USER_ENV,
    TrackingError,
    check_tracking_uri,
    create_store,
    default_experiment,
    default_tracking_uri,
    experiment_id,
    is_server,
    sqlite_path,
    unsynced_store_uri,
    using_tracking_uri,
)
from reproml.training import Callback

if TYPE_CHECKING:
    from reproml.training import EpochRecord, RunSetup, TrainingResult


class EpochLogger(Callback):
    """Logs each epoch's metrics with ``step`` = epoch, so MLflow draws them as curves."""

    def __init__(self, tracker: MlflowTracker) -> None:
        self.tracker = tracker

    def on_epoch_end(self, record: EpochRecord) -> None:
        import mlflow

        if self.tracker.lost is None:
            with self.tracker.unless_server_lost():
                mlflow.log_metrics(epoch_metrics(record), step=record.epoch)


def stopped_on_purpose(error: BaseException) -> bool:
    """Ctrl-C, or a search's pruner (Optuna's ``TrialPruned``: the run worked, it was only
    worse than others at the same epoch): KILLED in MLflow, not FAILED."""
    return isinstance(error, KeyboardInterrupt) or type(error).__name__ == "TrialPruned"


class MlflowTracker(Tracker):
    """``tracking=mlflow``: one MLflow run per training run.

    If a tracking server stops answering during training, training goes on and the whole run
    is logged to a local store (``outputs/unsynced/mlflow.db``) instead, from what the
    training result holds; ``reproml-course sync`` uploads it when the server is back.
    """

    def __init__(
        self,
        uri: str | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        log_model: bool = True,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        fallback_uri: str | None = None,
        notebook: str | None = None,
    ) -> None:
        """``run_id`` resumes a run created beforehand (a papermill sweep creates one per
        notebook, so it can attach the executed notebook to it afterwards); ``fallback_uri``
        is the local store a run goes to if the server drops (default: ``outputs/unsynced``);
        ``notebook`` names the notebook a kernel runs (reproml.tracking.record.run_source)."""
        if experiment is not None and not str(experiment).strip():
            raise ConfigError("tracking.experiment must name an MLflow experiment.")
        self.uri = uri or default_tracking_uri()
        self.experiment = experiment or default_experiment()
        self.run_name = run_name
        self.log_model = log_model
        self.tags = dict(tags or {})
        self.run_id: str | None = run_id
        self.fallback_uri = fallback_uri or unsynced_store_uri()
        self.notebook = notebook
        self.lost: str | None = None  # why the server stopped answering, once it has
        self._restore = contextlib.ExitStack()

    def check(self) -> None:
        check_tracking_uri(self.uri)

    def start(self, setup: RunSetup) -> list[Callback]:
        import mlflow
        from mlflow.exceptions import MlflowException

        self._restore.enter_context(using_tracking_uri(self.uri))
        if is_server(self.uri):
            # MLflow retries a dead server for minutes by default; a student should not wait.
            self._restore.enter_context(environment(SERVER_RETRIES, keep_users=True))
        self._setup = setup  # to log the run again locally if need be
        self._tags = run_tags(setup, self.tags, self.notebook)
        try:
            new = {"experiment_id": experiment_id(self.uri, self.experiment),
                   "run_name": self._run_name()}  # fmt: skip
            run = mlflow.start_run(
                **({"run_id": self.run_id} if self.run_id else new),
                nested=mlflow.active_run() is not None,  # inside a user's own run: a child
                tags=self._tags,
            )
        except MlflowException as error:
            raise self._refused(error) from None
        self.run_id = run.info.run_id
        self._input_example = log_run_setup(setup, self._tags)
        return [EpochLogger(self)]

    def finish(self, result: TrainingResult) -> Kept:
        import mlflow

        if self.lost is None:
            with self.unless_server_lost():
                log_run_results(result, self._input_example, self.log_model)
                mlflow.end_run("FINISHED")
                where = f"MLflow run {self.run_id} in experiment {self.experiment!r} at {self.uri}"
                return Kept(where, self.run_id)
        return self._keep_locally(result)

    def fail(self, error: BaseException) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is not None and run.info.run_id == self.run_id:
            with contextlib.suppress(Exception):  # a dead server cannot be told
                if type(error).__name__ == "TrialPruned":  # in the UI's list, KILLED looks
                    mlflow.set_tag("pruned", str(error) or "yes")  # like FAILED: say it
                mlflow.end_run("KILLED" if stopped_on_purpose(error) else "FAILED")

    def close(self) -> None:
        self._restore.close()

    @contextlib.contextmanager
    def unless_server_lost(self) -> Iterator[None]:
        """Run the block; if the server does not answer, remember why and go on without it."""
        import requests
        from mlflow.exceptions import MlflowException

        try:
            with quiet_loggers("urllib3.connectionpool"):  # its retries, one line each
                yield
        except (MlflowException, requests.RequestException, OSError) as error:
            if not is_server(self.uri):
                raise
            self.lost = str(error).strip().splitlines()[0][:200]
            self.fail(error)

    def _keep_locally(self, result: TrainingResult) -> Kept:
        import mlflow

        local = self.fallback_uri
        with using_tracking_uri(local):
            with quiet_loggers("mlflow.store.db.utils", "alembic"):  # a new store's tables
                create_store(local)
            run = mlflow.start_run(
                experiment_id=experiment_id(local, self.experiment),
                run_name=self._run_name(),
                tags={**self._tags, SYNC_TO: self.uri, SERVER_RUN: self.run_id or ""},
            )
            try:
                log_run_setup(self._setup, self._tags)
                for record in result.history:
                    mlflow.log_metrics(epoch_metrics(record), step=record.epoch)
                log_run_results(result, self._input_example, self.log_model)
                mlflow.end_run("FINISHED")
            except BaseException:
                mlflow.end_run("FAILED")
                raise
        sync = "reproml-course sync" + (
            "" if local == unsynced_store_uri() else f" --store {local}"
        )
        where = (
            f"locally, as run {run.info.run_id} in {sqlite_path(local)}, because the tracking "
            f"server {self.uri} stopped answering during the run ({self.lost}). Nothing is lost:"
            f" when the server is back, upload it with `{sync}`."
        )
        return Kept(where, run.info.run_id)

    def _refused(self, error: Exception) -> TrackingError:
        text = str(error)
        if "403" in text or "PERMISSION_DENIED" in text:
            user = os.environ.get(USER_ENV, "anonymous")
            return TrackingError(
                f"{self.uri} does not let {user!r} write to the experiment "
                f"{self.experiment!r} (permission denied). Log to your own team's experiment "
                "(tracking.experiment=competition/<your team>), or ask your instructor."
            )
        return TrackingError(f"MLflow at {self.uri} refused the run: {text.splitlines()[0]}")

    def _run_name(self) -> str:
        config = self._setup.config
        model, optimizer = (
            option_name("model", config.model),
            option_name("optimizer", config.optimizer),
        )
        return self.run_name or f"{model}-{optimizer}"
