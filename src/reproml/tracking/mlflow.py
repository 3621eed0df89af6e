"""Chapter 04 on: every run in an MLflow store, with everything needed to trace and redo it.

A run holds the flattened configuration as parameters, per-epoch metrics (``step`` = epoch),
the final test metrics, tags for the code, data and environment (git commit, ``uv.lock``
digest, versions, device, data digest, command line), the resolved ``config.yaml``, the
confusion matrix (JSON and figure), the learning curves, the model, and the data set as a run
input. The store is a SQLite file at the repository root unless ``tracking.uri`` or
``MLFLOW_TRACKING_URI`` names another one, such as a class server.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from reproml.config import flatten_config
from reproml.data import CLASSES, normalize, raw_folder
from reproml.errors import ConfigError
from reproml.logs import quiet_loggers
from reproml.plots import plot_confusion_matrix, plot_learning_curves
from reproml.provenance import environment_tags
from reproml.runtime import select_device
from reproml.tracking.base import Tracker
from reproml.tracking.stores import (  # re-exported: notebooks import them from here
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
)
from reproml.training import Callback, EpochRecord

if TYPE_CHECKING:
    from reproml.data import FashionMNISTData
    from reproml.training import TrainingResult

EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy", "learning_rate")  # step=epoch


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    metrics = {name: getattr(record, name) for name in EPOCH_METRICS}
    metrics["epoch_seconds"] = record.seconds  # varies between identical runs
    return {k: v for k, v in metrics.items() if not math.isnan(v)}


class EpochLogger(Callback):
    """Logs each epoch's metrics with ``step`` = epoch, so MLflow draws them as curves."""

    def __init__(self, tracker: MlflowTracker) -> None:
        self.tracker = tracker

    def on_epoch_end(self, record: EpochRecord) -> None:
        import mlflow

        if self.tracker.lost is None:
            with self.tracker.unless_server_lost():
                mlflow.log_metrics(epoch_metrics(record), step=record.epoch)


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
    ) -> None:
        """``run_id`` resumes a run created beforehand (a papermill sweep creates one per
        notebook, so it can attach the executed notebook to it afterwards); ``fallback_uri``
        is the local store a run goes to if the server drops (default: ``outputs/unsynced``)."""
        if experiment is not None and not str(experiment).strip():
            raise ConfigError("tracking.experiment must name an MLflow experiment.")
        self.uri = uri or default_tracking_uri()
        self.experiment = experiment or default_experiment()
        self.run_name = run_name
        self.log_model = log_model
        self.tags = dict(tags or {})
        self.run_id: str | None = run_id
        self.fallback_uri = fallback_uri or unsynced_store_uri()
        self.lost: str | None = None  # why the server stopped answering, once it has

    def check(self) -> None:
        check_tracking_uri(self.uri)
        if is_server(self.uri):
            # MLflow retries a dead server for minutes by default; a student should not wait.
            for name, value in SERVER_RETRIES.items():
                os.environ.setdefault(name, value)

    def start(self, config: DictConfig, data: FashionMNISTData) -> list[Callback]:
        import mlflow
        from mlflow.exceptions import MlflowException

        mlflow.set_tracking_uri(self.uri)
        self._config, self._data = config, data  # to log the run again locally if need be
        self._run_tags = {
            **(provenance := environment_tags()),
            # MLflow's own tags, which its UI shows as the run's source and commit.
            "mlflow.source.name": Path(sys.argv[0]).name,
            "mlflow.source.git.commit": provenance["git_commit"],
            "device": str(select_device(config.trainer.device)),
            "data_digest": data.digest,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            **self.tags,
        }
        try:
            new = {"experiment_id": self._experiment_id(), "run_name": self._run_name()}
            run = mlflow.start_run(
                **({"run_id": self.run_id} if self.run_id else new),
                nested=mlflow.active_run() is not None,  # inside a user's own run: a child
                tags=self._run_tags,
            )
        except MlflowException as error:
            raise self._refused(error) from None
        self.run_id = run.info.run_id
        try:
            self._log_setup()
        except BaseException as error:
            self.fail(error)
            raise
        return [EpochLogger(self)]

    def finish(self, result: TrainingResult) -> str:
        import mlflow

        if self.lost is None:
            with self.unless_server_lost():
                self._log_results(result)
                mlflow.end_run("FINISHED")
                result.run_id = self.run_id
                return f"MLflow run {self.run_id} in experiment {self.experiment!r} at {self.uri}"
        return self._keep_locally(result)

    def fail(self, error: BaseException) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is not None and run.info.run_id == self.run_id:
            with contextlib.suppress(Exception):  # a dead server cannot be told
                mlflow.end_run("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")

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

    def _keep_locally(self, result: TrainingResult) -> str:
        import mlflow

        local = self.fallback_uri
        mlflow.set_tracking_uri(local)
        try:
            tags = {**self._run_tags, SYNC_TO: self.uri, SERVER_RUN: self.run_id or ""}
            with quiet_loggers("mlflow.store.db.utils", "alembic"):  # a new store's tables
                create_store(local)
            run = mlflow.start_run(
                experiment_id=experiment_id(local, self.experiment),
                run_name=self._run_name(),
                tags=tags,
            )
            self._log_setup()
            for record in result.history:
                mlflow.log_metrics(epoch_metrics(record), step=record.epoch)
            self._log_results(result)
            mlflow.end_run("FINISHED")
        except BaseException as error:
            self.fail(error)
            raise
        finally:
            mlflow.set_tracking_uri(self.uri)
        result.run_id = run.info.run_id
        sync = "reproml-course sync" + (
            "" if local == unsynced_store_uri() else f" --store {local}"
        )
        return (
            f"locally, as run {run.info.run_id} in {sqlite_path(local)}, because the tracking "
            f"server {self.uri} stopped answering during the run ({self.lost}). Nothing is lost:"
            f" when the server is back, upload it with `{sync}`."
        )

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
        return self.run_name or f"{self._config.model.name}-{self._config.optimizer.name}"

    def _log_setup(self) -> None:
        import mlflow

        config, data = self._config, self._data
        mlflow.log_params(flatten_config(config, exclude=("tracking",)))
        mlflow.log_text(OmegaConf.to_yaml(config), "config.yaml")
        source = str(raw_folder(Path(config.data.root)))
        for context, split in (("training", data.train), ("testing", data.test)):
            with warnings.catch_warnings():
                # MLflow registers its local-file source twice and warns that a path
                # "can be interpreted in multiple ways" (both the same class): harmless.
                warnings.filterwarnings("ignore", message=".*interpreted in multiple ways")
                dataset = mlflow.data.from_numpy(
                    split.images.cpu().numpy(),
                    targets=split.labels.cpu().numpy(),
                    source=source,
                    name=f"fashion-mnist-{context}",
                )
            mlflow.log_input(dataset, context=context)
        # Two real images (a batch of one would fix the exported model's batch size to 1).
        self._input_example = normalize(data.test.images[:2].cpu()).numpy()

    def _log_results(self, result: TrainingResult) -> None:
        import mlflow

        final = {k: v for k, v in result.metrics.items() if k not in EPOCH_METRICS}
        mlflow.log_metrics({**final, "train_seconds": result.seconds})  # val_accuracy: per epoch
        mlflow.log_dict(
            {"classes": list(CLASSES), "matrix": result.confusion_matrix.tolist()},
            "confusion_matrix.json",
        )
        mlflow.log_figure(plot_confusion_matrix(result.confusion_matrix), "confusion_matrix.png")
        mlflow.log_figure(plot_learning_curves(result.history), "learning_curves.png")
        if self.log_model:
            self._log_model(result)

    def _experiment_id(self) -> str:
        return experiment_id(self.uri, self.experiment)

    def _log_model(self, result: TrainingResult) -> None:
        import mlflow.pytorch
        import torch

        model = copy.deepcopy(result.model).cpu().eval()
        # uv environments have no pip; MLflow warns about that while writing conda.yaml, and
        # says it found uv.lock: nothing a student can act on.
        with quiet_loggers("mlflow.utils.environment", "mlflow.utils.uv_utils"):
            info = mlflow.pytorch.log_model(
                model,
                name="model",
                input_example=self._input_example,
                # Given, not inferred: inference loads the model in a subprocess (seconds).
                pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],
            )
        mlflow.set_tag("model_uri", info.model_uri)


def flat_params(config: DictConfig | dict[str, Any]) -> dict[str, str]:
    """The parameters as MLflow stores them (strings), for comparing with a run's params."""
    return {k: str(v) for k, v in flatten_config(config, exclude=("tracking",)).items()}
