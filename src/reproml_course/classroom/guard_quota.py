"""The class server's storage quota (``guard``): an artifact upload, through the artifact
proxy or the UI, must say its size, and is refused (413) when the file is over the largest
upload, or would take its team's experiment past its quota in the server's artifact folder.
The limits come from the environment ``reproml-course server`` sets."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs

UPLOAD_PATH = re.compile(r"/(ajax-)?api/\d+\.\d+/mlflow-artifacts/artifacts/(?P<path>.+)")
UI_UPLOAD = re.compile(r"/ajax-api/\d+\.\d+/mlflow/upload-artifact$")
ARTIFACTS_ENV, QUOTA_ENV, MAX_UPLOAD_ENV = (
    "REPROML_ARTIFACTS_DESTINATION", "REPROML_QUOTA_MB", "REPROML_MAX_UPLOAD_MB",
)  # fmt: skip


def _over_quota(method: str, path: str, length: str | None, query: str) -> tuple[int, str] | None:
    """(status, message) when an upload is refused. Two ways upload files: the artifact
    proxy's PUT (the path starts with the experiment id) and the UI's POST (a run id)."""
    destination = os.environ.get(ARTIFACTS_ENV)
    found = UPLOAD_PATH.search(path) if method == "PUT" else None
    if found is not None:
        experiment = found["path"].split("/", 1)[0]
    elif method == "POST" and UI_UPLOAD.search(path):
        experiment = _experiment_of_run(parse_qs(query).get("run_uuid", [""])[0])
    else:
        return None
    if not destination:
        return None
    if length is None or not length.isdigit():
        return 411, "An upload must say its size (Content-Length)."
    size, most = int(length), _megabytes(MAX_UPLOAD_ENV, 100)
    if size > most:
        return 413, (f"This file is {size / 1e6:.3g} MB: the class server takes files of at "
                     f"most {most / 1e6:.3g} MB.")  # fmt: skip
    quota = _megabytes(QUOTA_ENV, 500)
    used = _folder_bytes(Path(destination) / experiment) if experiment.isdigit() else 0
    if used + size > quota:
        return 413, (
            f"This file would take experiment {experiment} past its {quota / 1e6:.3g} MB quota "
            "on the class server. Delete runs you do not need, and ask your instructor."
        )
    return None


def _experiment_of_run(run_id: str) -> str:
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_tracking_store

    try:
        return _get_tracking_store().get_run(run_id).info.experiment_id
    except MlflowException:
        return ""  # MLflow answers for a run that does not exist


def _megabytes(variable: str, default: int) -> int:
    try:
        return int(float(os.environ.get(variable, default)) * 1_000_000)
    except ValueError:
        return default * 1_000_000


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
