"""JupyterLab's server in a Binder-like pod with its MLflow tile opened, as a student has it while
a notebook runs: Jupyter's server and the MLflow server the tile starts are charged to the pod
beside the kernel (``course_time.py --mlflow-ui``). Needs root, as ``cgroup_limits.py``."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cgroup_limits import Pod

from reproml_course.base.processes import free_port, wait_until_answers
from reproml_course.classroom.mlflow_proxy import LANDING

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def jupyter_with_mlflow_tile(box: Pod) -> Iterator[str]:
    """Start ``jupyter server`` in ``box``, open the MLflow tile through it (its start page,
    then the experiments the UI lists first) and yield the server's URL; stop it all after."""
    port, token = free_port(), secrets.token_hex(8)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        preexec_fn=lambda: box.join(os.getpid()),  # before exec: every child is in the pod
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/api?token={token}", timeout=60)
        urllib.request.urlopen(f"{url}/{LANDING}?token={token}", timeout=60).close()
        api = "mlflow/ajax-api/2.0/mlflow/experiments/search?max_results=25"
        wait_until_answers(f"{url}/{api}&token={token}", timeout=120, any_status=False)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, 15)
        server.wait(timeout=30)
