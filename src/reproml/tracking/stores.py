"""MLflow stores: where runs go, whether they can be reached, and the switches around them.

Nothing here imports torch or matplotlib (MLflow itself is imported where it is used): the
Jupyter server extension, the class server and the course's store tools start in a second.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from reproml.base.errors import ReproMLError
from reproml.base.logs import quiet_loggers
from reproml.base.paths import repository_root

DB_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"  # not "mlruns": MLflow would take a ./mlruns folder for a store
SERVER_SCHEMES = ("http", "https")
USER_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
# Runs kept locally when the server drops, with where they belong (the course's class server
# uploads them: reproml_course.classroom.sync).
SYNC_TO, SERVER_RUN = "reproml.sync_to", "reproml.server_run_id"
SERVER_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


COMPETITION = "competition"  # chapter 07: team <t> logs to the experiment competition/<t>
TEAM_ENV = "REPROML_TEAM"


def team_experiment(team: str, competition: str = COMPETITION) -> str:
    return f"{competition}/{team}"


def default_experiment() -> str:
    """``competition/$REPROML_TEAM`` when a team is set (chapter 07), else ``reproml``."""
    team = os.environ.get(TEAM_ENV, "").strip()
    return team_experiment(team) if team else "reproml"


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


def authorized_request(url: str) -> urllib.request.Request:
    """A request to a tracking server with the credentials MLflow's client would send."""
    import base64

    request = urllib.request.Request(url)
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return request


def _check_credentials(uri: str, timeout: float) -> None:
    """A server with accounts (the class server) answers 401 to a wrong or missing password."""
    user = os.environ.get(USER_ENV)
    request = authorized_request(
        uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
    )
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


def artifact_location(uri: str) -> str | None:
    """Where a new experiment of a SQLite store should keep its files: beside the database.

    Left to itself, MLflow puts them in ``./mlruns`` of the current folder, wherever the
    database is; a server (None here) decides for itself."""
    if uri.startswith("sqlite:"):
        # A plain path: MLflow mangles a file:/// URI here (file:////...).
        return str(sqlite_path(uri).parent / ARTIFACTS_DIR)
    return None


def experiment_id(uri: str, name: str) -> str:
    """The experiment's id, creating it (artifacts next to a local database) if needed."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(uri))
    except MlflowException:  # created meanwhile by a parallel job of the same sweep
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id
