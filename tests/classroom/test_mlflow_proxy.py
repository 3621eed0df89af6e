"""The MLflow UI behind Jupyter's proxy, reached the way a browser on mybinder.org reaches it."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import mlflow
import pytest

from reproml_course.base.processes import command_line, group_of
from reproml_course.classroom.mlflow_proxy import mlflow_ui

TOKEN = "course-test-token"
# Through the proxy, MLflow sees the browser's own Host and Origin, not localhost.
BINDER_HEADERS = {"Host": "hub.mybinder.org", "Origin": "https://hub.mybinder.org"}


def test_the_ui_shows_a_local_database_and_never_a_class_server(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'runs.db'}")
    command = mlflow_ui()["command"]
    assert command[command.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path}/runs.db"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://class-server:5000")
    command = mlflow_ui()["command"]
    assert command[command.index("--backend-store-uri") + 1].endswith("/mlflow.db")


def request(port: int, path: str, body: dict | None = None, timeout: float = 150) -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/{path}",
        data=data,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    for name, value in BINDER_HEADERS.items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_jupyter_launches_the_mlflow_ui_and_proxies_it(tmp_path, mlflow_uri, free_port):
    mlflow.set_experiment("proxied")
    with mlflow.start_run() as run:
        mlflow.log_metric("test_accuracy", 0.875)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.allow_remote_access=True",
            f"--ServerApp.root_dir={tmp_path}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the proxied MLflow server joins its process group
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if request(port, "api/status", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "Jupyter did not start"
            time.sleep(0.5)

        status, body = request(port, "server-proxy/servers-info")
        (entry,) = [s for s in json.loads(body)["server_processes"] if s["name"] == "mlflow"]
        assert entry["launcher_entry"]["title"] == "MLflow"

        landing = entry["launcher_entry"]["path_info"]
        assert landing == "mlflow/reproml-start"  # the launcher's page, MLflow up or not
        status, page = request(port, landing)
        assert status == 200 and '"mlflow.workflowType_v1": "machine_learning"' in page
        assert "location.replace('./#/experiments'" in page

        asked = time.monotonic()
        status, page = request(port, "mlflow/")
        assert time.monotonic() - asked < 10  # the launcher answers, MLflow or not
        while status == 503 and "MLflow is starting" in page:  # what the browser reloads
            assert time.monotonic() - asked < 120, "MLflow did not start"
            time.sleep(1)
            status, page = request(port, "mlflow/")
        assert status == 200 and "static-files/" in page
        status, body = request(
            port,
            "mlflow/ajax-api/2.0/mlflow/runs/search",
            {"experiment_ids": [run.info.experiment_id]},
        )
        assert status == 200, body
        (found,) = json.loads(body)["runs"]
        assert found["info"]["run_id"] == run.info.run_id
        assert found["data"]["metrics"][0]["value"] == 0.875

        time.sleep(3)  # MLflow starts its GenAI job runner's consumers after it answers
        group = [command_line(pid) for pid in group_of(server.pid)]
        assert any("uvicorn" in c and "mlflow.server" in c for c in group), group
        cli = [
            c for c in group if c.split()[1:3] == ["-m", "reproml_course.classroom.mlflow_serve"]
        ]
        assert not cli, "MLflow's CLI stayed beside uvicorn"
        assert not [c for c in group if "huey" in c], "MLflow's job runner was started"
        assert request(port, "formgrader")[0] == 404  # nbgrader's server extensions are off
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
