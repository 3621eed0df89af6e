"""The MLflow UI inside JupyterLab (and on Binder), through jupyter-server-proxy.

Registered in ``pyproject.toml`` as a ``jupyter_serverproxy_servers`` entry point: JupyterLab
shows an "MLflow" tile in its launcher, and the first visit of ``<jupyter url>/mlflow/`` starts
``mlflow server`` on the local store, bound to 127.0.0.1, behind Jupyter's own login.

The proxy passes the browser's Host and Origin headers on (``hub.mybinder.org``, not
``localhost``), which MLflow's DNS-rebinding and cross-origin protections refuse: since the
server is reachable only through Jupyter, it accepts any host and origin.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from reproml.tracking.stores import (
    ARTIFACTS_DIR,
    DATABASE_SCHEMES,
    local_tracking_uri,
    sqlite_path,
    store_kind,
)
from reproml_course.classroom.mlflow_launch import PRIVATE_PORT

ICON = Path(__file__).with_name("mlflow.svg")
LANDING = "mlflow/reproml-start"  # the launcher's page: MLflow's UI set for model training


def mlflow_ui() -> dict[str, Any]:
    """jupyter-server-proxy's description of the MLflow server (``{port}`` is filled in).

    It shows ``$MLFLOW_TRACKING_URI`` when that is a database, else the local store (a class
    server has its own UI).
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if store_kind(uri) not in DATABASE_SCHEMES:
        uri = local_tracking_uri()
    artifacts = sqlite_path(uri).parent if uri.startswith("sqlite:") else Path.cwd()
    options = {
        "--backend-store-uri": uri,
        "--default-artifact-root": str(artifacts / ARTIFACTS_DIR),
        "--host": "127.0.0.1",
        "--port": PRIVATE_PORT,  # the launcher chooses it, and answers on {port} at once
        "--workers": "1",  # MLflow's default of 4 would take 600 MB of Binder's 2 GB
        "--allowed-hosts": "*",
        "--cors-allowed-origins": "*",
    }
    # This Python's MLflow, not whichever `mlflow` comes first on the PATH (or none at all),
    # without its CLI's idle process (reproml_course.classroom.mlflow_serve).
    mlflow = [sys.executable, "-m", "reproml_course.classroom.mlflow_serve"]
    launcher = [sys.executable, "-m", "reproml_course.classroom.mlflow_launch", "{port}", "--"]
    return {
        "command": [*launcher, *mlflow, *(word for pair in options.items() for word in pair)],
        # MLflow 3 also starts a GenAI job runner (7 huey consumer processes, about 1.5 GB):
        # the course never uses it, and Binder has 2 GB.
        # MLFLOW_DISABLE_TELEMETRY: no usage report from the server (DVC's is off too).
        "environment": {
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
        },
        "timeout": 30,  # seconds to wait for the launcher's port (it answers within a second)
        "absolute_url": False,
        # The tile opens the experiments in MLflow 3's "Model training" view: its default GenAI
        # view shows traces and prompts, which the course does not log.
        "launcher_entry": {"title": "MLflow", "icon_path": str(ICON), "path_info": LANDING},
    }
