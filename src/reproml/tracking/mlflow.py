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
import tempfile
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
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
USER_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
# Runs kept locally when the server drops, with where they belong; see reproml.tracking.sync.
SYNC_TO, SERVER_RUN = "reproml.sync_to", "reproml.server_run_id"
SERVER_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy", "learning_rate")  # step=epoch


class TrackingError(ReproMLError):
    """The MLflow store cannot be reached or written."""


def store_kind(uri: str) -> str:
    """``http``/``https`` for a tracking server, ``sqlite``, ``postgresql``... for a database
    (a driver suffix such as ``postgresql+psycopg`` dropped)."""
    return urlparse(uri).scheme.split("+")[0]


def is_server(uri: str) -> bool:
    return store_kind(uri) in SERVER_SCHEMES


@contextlib.contextmanager
def using_tracking_uri(uri: str) -> Iterator[None]:
    """MLflow's global tracking URI set to ``uri`` for the block (``models:/`` and ``runs:/``
    URIs are resolved against it, whatever client is used), then put back."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else the local store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or local_tracking_uri()


def unsynced_store_uri() -> str:
    """Where runs wait when the tracking server dropped: ``outputs/unsynced/mlflow.db``."""
    return _sqlite_store("outputs", "unsynced")


def local_tracking_uri() -> str:
    """``mlflow.db`` at the repository root (or in the working directory)."""
    return _sqlite_store()


def _sqlite_store(*folders: str) -> str:
    folder = (repository_root() or Path.cwd()).joinpath(*folders)
    return f"sqlite:///{folder / DB_FILE}"


def check_tracking_uri(uri: str, timeout: float = 5.0) -> None:
    """Raise a TrackingError unless results can be logged at ``uri``; quick for a dead server."""
    scheme = store_kind(uri)
    if scheme in SERVER_SCHEMES:
        health = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(health, timeout=timeout) as response:
                if response.status == 200:
                    return _check_credentials(uri, timeout)
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


def _check_credentials(uri: str, timeout: float) -> None:
    """A server with accounts (the class server) answers 401 to a wrong or missing password."""
    import base64

    request = urllib.request.Request(
        uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
    )
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        urllib.request.urlopen(request, timeout=timeout).close()
    except urllib.error.HTTPError as error:
        if error.code == 401:
            who = f"the user {user!r} with this password" if user else "anonymous requests"
            raise TrackingError(
                f"The MLflow server at {uri} refused {who} (HTTP 401). Set {USER_ENV} and "
                f"{PASSWORD_ENV} to the account your instructor gave you."
            ) from None
    except OSError:
        pass  # answered /health a moment ago: let MLflow report what comes next


def create_store(uri: str) -> None:
    """Create a local store's tables now, before parallel jobs use it: MLflow builds them on
    first use, and two processes doing that at once can fail."""
    from mlflow import MlflowClient

    check_tracking_uri(uri)
    if not is_server(uri):
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
        experiment: str = "reproml",
        run_name: str | None = None,
        log_model: bool = True,
        tags: dict[str, str] | None = None,
        run_id: str | None = None,
        fallback_uri: str | None = None,
    ) -> None:
        """``run_id`` resumes a run created beforehand (a papermill sweep creates one per
        notebook, so it can attach the executed notebook to it afterwards); ``fallback_uri``
        is the local store a run goes to if the server drops (default: ``outputs/unsynced``)."""
        if not experiment:
            raise ConfigError("tracking.experiment must name an MLflow experiment.")
        self.uri = uri or default_tracking_uri()
        self.experiment = experiment
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

        mlflow.log_metrics({**result.metrics, "train_seconds": result.seconds})
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
