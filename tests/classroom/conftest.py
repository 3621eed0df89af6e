"""Fixtures of the class-server tests: a real ``reproml-course server`` with three students'
accounts (one per test module that asks for it); the runs they log are made in
``forgeries.py``."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from class_server import ADMIN_PASSWORD, STUDENTS, password, wait_until_up

from reproml_course.classroom.server import ClassServer


@pytest.fixture
def marker(tmp_path) -> Path:
    """A file a payload would create if it ever ran."""
    return tmp_path / "PAYLOAD_RAN"


@pytest.fixture(scope="module")
def server(tmp_path_factory, free_port, request):
    """``reproml-course server`` on a free port, with three students' accounts; the module's
    ``SERVER_ENVIRONMENT`` added to its environment (the guard's limits)."""
    port = free_port()
    folder = tmp_path_factory.mktemp("class_server")
    env = {**os.environ, "REPROML_ADMIN_PASSWORD": ADMIN_PASSWORD,
           **getattr(request.module, "SERVER_ENVIRONMENT", {})}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "reproml_course.cli.course", "server", "--port", str(port),
         "--folder", str(folder)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
        # Ctrl-C must reach it even when the tests run in a background job, whose children
        # inherit SIGINT ignored (a shell's rule for `cmd &`).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    csv = folder / "students.csv"
    csv.write_text(
        "username,password,team\n"
        + "".join(f"{u},{password(u)},{team}\n" for u, team in STUDENTS.items())
    )
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "accounts", str(csv), "--server", url],
        env={**env, **admin}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "alice: created, logs to experiment 'competition/red'"
    yield ClassServer(folder, port=port), process
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
    try:
        out, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log = (folder / "server.log").read_text(errors="replace").splitlines()[-20:]
        pytest.fail("the server did not stop on Ctrl-C; its log ends:\n" + "\n".join(log))
    assert process.returncode == 0 and "Server stopped." in out


@pytest.fixture
def as_user(monkeypatch):
    def login(user: str, secret: str | None = None) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", secret or password(user))

    return login
