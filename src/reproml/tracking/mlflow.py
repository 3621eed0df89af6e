"""Chapter 04 on: every run in an MLflow store, with everything needed to trace and redo it.

A run holds the flattened configuration as parameters, per-epoch metrics (``step`` = epoch),
the final test metrics, tags for the code, data and environment (git commit, ``uv.lock``
digest, versions, device, data digest, command line), the resolved ``config.yaml``, the
confusion matrix (JSON and figure), the learning curves, the model, and the data set as a run
input. The store is a SQLite file at the repository root unless ``tracking.uri`` or
``MLFLOW_TRACKING_URI`` names another one, such as a class server.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from omegaconf import DictConfig, OmegaConf

from reproml.config import flatten_config
from reproml.data import CLASSES, normalize, raw_folder
from reproml.errors import ConfigError, ReproMLError
from reproml.logs import quiet_loggers
from reproml.paths import repository_root
from reproml.plots import plot_confusion_matrix, plot_learning_curves
from reproml.provenance import environment_tags
from reproml.runtime import select_device
from reproml.tracking.base import Tracker
from reproml.training import Callback, EpochRecord

if TYPE_CHECKING:
    from reproml.data import FashionMNISTData
    from reproml.training import TrainingResult

DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"  # not "mlruns": MLflow would take a ./mlruns folder for a store
SERVER_SCHEMES = ("http", "https")
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy", "learning_rate")  # step=epoch


class TrackingError(ReproMLError):
    """The MLflow store cannot be reached or written."""


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else the local store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or local_tracking_uri()


def local_tracking_uri() -> str:
    """``mlflow.db`` at the repository root (or in the working directory)."""
    folder = repository_root() or Path.cwd()
    return f"sqlite:///{folder / DB_FILE}"


def check_tracking_uri(uri: str, timeout: float = 5.0) -> None:
    """Raise a TrackingError unless results can be logged at ``uri``; quick for a dead server."""
    scheme = urlparse(uri).scheme.split("+")[0]
    if scheme in SERVER_SCHEMES:
        health = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(health, timeout=timeout) as response:
                if response.status == 200:
                    return
                problem = f"{health} answered HTTP {response.status}"
        except urllib.error.HTTPError as error:
            problem = f"{health} answered HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            problem = f"no answer from {uri} ({reason})"
        raise TrackingError(
            f"MLflow tracking server unreachable: {problem}. Start it (uv run mlflow server"
            " --port 5000), or point tracking.uri / MLFLOW_TRACKING_URI at a running one,"
            " or train without it: tracking=none."
        )
    if scheme == "sqlite":
        _check_writable(sqlite_path(uri).parent, uri)
    elif scheme not in DATABASE_SCHEMES:
        raise TrackingError(
            f"Tracking URI {uri!r} is not understood. Use http://host:port for a tracking server"
            " or sqlite:////absolute/path/mlflow.db for a local store."
        )


def create_store(uri: str) -> None:
    """Create a local store's tables now, before parallel jobs use it: MLflow builds them on
    first use, and two processes doing that at once can fail."""
    from mlflow import MlflowClient

    check_tracking_uri(uri)
    if urlparse(uri).scheme.split("+")[0] not in SERVER_SCHEMES:
        with quiet_loggers("mlflow", "alembic"):
            MlflowClient(uri).search_experiments(max_results=1)


def sqlite_path(uri: str) -> Path:
    """The database file of a SQLite URI: three slashes before a relative path, four before an
    absolute one (``sqlite:////work/mlflow.db``)."""
    from sqlalchemy.engine import make_url

    return Path(make_url(uri).database or DB_FILE).resolve()


def _check_writable(folder: Path, uri: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise TrackingError(f"Cannot write the MLflow store {uri}: {error.strerror}.") from None


class EpochLogger(Callback):
    """Logs each epoch's metrics with ``step`` = epoch, so MLflow draws them as curves."""

    def on_epoch_end(self, record: EpochRecord) -> None:
        import mlflow

        metrics = {name: getattr(record, name) for name in EPOCH_METRICS}
        metrics["epoch_seconds"] = record.seconds  # varies between identical runs
        mlflow.log_metrics(
            {k: v for k, v in metrics.items() if not math.isnan(v)}, step=record.epoch
        )


class MlflowTracker(Tracker):
    """``tracking=mlflow``: one MLflow run per training run."""

    def __init__(
        self,
        uri: str | None = None,
        experiment: str = "reproml",
        run_name: str | None = None,
        log_model: bool = True,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
    ) -> None:
        """``run_id`` resumes a run created beforehand (a papermill sweep creates one per
        notebook, so it can attach the executed notebook to it afterwards)."""
        if not experiment:
            raise ConfigError("tracking.experiment must name an MLflow experiment.")
        self.uri = uri or default_tracking_uri()
        self.experiment = experiment
        self.run_name = run_name
        self.log_model = log_model
        self.tags = dict(tags or {})
        self.run_id: str | None = run_id

    def check(self) -> None:
        check_tracking_uri(self.uri)

    def start(self, config: DictConfig, data: FashionMNISTData) -> list[Callback]:
        import mlflow

        mlflow.set_tracking_uri(self.uri)
        new = {
            "experiment_id": self._experiment_id(),
            "run_name": self.run_name or f"{config.model.name}-{config.optimizer.name}",
        }
        run = mlflow.start_run(
            **({"run_id": self.run_id} if self.run_id else new),
            nested=mlflow.active_run() is not None,  # inside a user's own run: a child run
            tags={
                **(provenance := environment_tags()),
                # MLflow's own tags, which its UI shows as the run's source and commit.
                "mlflow.source.name": Path(sys.argv[0]).name,
                "mlflow.source.git.commit": provenance["git_commit"],
                "device": str(select_device(config.trainer.device)),
                "data_digest": data.digest,
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                **self.tags,
            },
        )
        self.run_id = run.info.run_id
        try:
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
        except BaseException as error:
            self.fail(error)
            raise
        return [EpochLogger()]

    def finish(self, result: TrainingResult) -> str:
        import mlflow

        mlflow.log_metrics({**result.metrics, "train_seconds": result.seconds})
        mlflow.log_dict(
            {"classes": list(CLASSES), "matrix": result.confusion_matrix.tolist()},
            "confusion_matrix.json",
        )
        mlflow.log_figure(plot_confusion_matrix(result.confusion_matrix), "confusion_matrix.png")
        mlflow.log_figure(plot_learning_curves(result.history), "learning_curves.png")
        if self.log_model:
            self._log_model(result)
        mlflow.end_run("FINISHED")
        result.run_id = self.run_id
        return f"MLflow run {self.run_id} in experiment {self.experiment!r} at {self.uri}"

    def fail(self, error: BaseException) -> None:
        import mlflow

        run = mlflow.active_run()
        if run is not None and run.info.run_id == self.run_id:
            mlflow.end_run("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")

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


def experiment_id(uri: str, name: str) -> str:
    """The experiment's id, creating it (artifacts next to a local database) if needed."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if uri.startswith("sqlite:"):
        # A plain path: MLflow mangles a file:/// URI here (file:////...).
        location = str(sqlite_path(uri).parent / ARTIFACTS_DIR)
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # created meanwhile by a parallel job of the same sweep
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def flat_params(config: DictConfig | dict[str, Any]) -> dict[str, str]:
    """The parameters as MLflow stores them (strings), for comparing with a run's params."""
    return {k: str(v) for k, v in flatten_config(config, exclude=("tracking",)).items()}
