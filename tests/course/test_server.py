"""The class server for real: accounts, permissions, a verified leaderboard, a server that dies
mid-run. One server (started through the CLI) serves the module; every test is slow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from reproml.course.leaderboard import format_leaderboard, leaderboard
from reproml.course.server import ClassServer, stop
from reproml.experiment import run_experiment
from reproml.tracking.mlflow import TrackingError, check_tracking_uri
from reproml.tracking.sync import REPLACED_BY, sync_runs
from reproml.training import Callback

pytestmark = pytest.mark.slow
ADMIN_PASSWORD = "admin-password-for-tests"
STUDENTS = {"alice": "red", "bob": "blue", "carol": "green"}


def password(user: str) -> str:
    return f"{user}-secret-password"


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory, free_port):
    """``reproml-course server`` on a free port, with three students' accounts."""
    port = free_port()
    folder = tmp_path_factory.mktemp("class_server")
    env = {**os.environ, "REPROML_ADMIN_PASSWORD": ADMIN_PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-m", "reproml.cli.course", "server", "--port", str(port),
         "--folder", str(folder)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
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
        [sys.executable, "-m", "reproml.cli.course", "accounts", str(csv), "--server", url],
        env={**env, **admin}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "alice: created, logs to experiment 'competition/red'"
    yield ClassServer(folder, port=port), process
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and "Server stopped." in out


@pytest.fixture
def as_user(monkeypatch):
    def login(user: str, secret: str | None = None) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", secret or password(user))

    return login


def entry(make_config, url, user, *overrides):
    return make_config(
        [
            "tracking=mlflow",
            f"tracking.uri={url}",
            f"tracking.experiment=competition/{STUDENTS[user]}",
            f"tracking.run_name={user}-cnn",
            *overrides,
        ]
    )


def test_students_log_to_their_team_and_cannot_touch_another(server, make_config, as_user):
    cls, _ = server
    as_user("alice")
    result = run_experiment(entry(make_config, cls.url, "alice"))
    run = MlflowClient(cls.url).get_run(result.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["model_uri"]

    as_user("bob")
    client = MlflowClient(cls.url)
    for attempt in (
        lambda: client.log_metric(result.run_id, "test_accuracy", 1.0),
        lambda: client.delete_run(result.run_id),
        lambda: client.set_tag(result.run_id, "winner", "bob"),
    ):
        with pytest.raises(MlflowException, match="403"):
            attempt()
    as_user("alice")
    after = MlflowClient(cls.url).get_run(result.run_id)
    assert after.data.metrics == run.data.metrics and "winner" not in after.data.tags
    assert after.info.lifecycle_stage == "active"

    as_user("bob")  # into alice's team's experiment: refused before any training
    runs_before = len(client.search_runs([run.info.experiment_id]))
    config = entry(make_config, cls.url, "bob", "tracking.experiment=competition/red")
    with pytest.raises(TrackingError, match="does not let 'bob' write to the experiment"):
        run_experiment(config)
    assert len(client.search_runs([run.info.experiment_id])) == runs_before


def test_a_wrong_password_is_one_clear_message(server, as_user):
    cls, _ = server
    as_user("alice", "not-her-password")
    with pytest.raises(
        TrackingError, match=r"refused the user 'alice' with this password \(HTTP 401\)"
    ):
        check_tracking_uri(cls.url)


def test_the_leaderboard_verifies_logged_accuracies(server, make_config, as_user, synthetic):
    cls, _ = server
    as_user("bob")
    honest = run_experiment(entry(make_config, cls.url, "bob"))
    as_user("carol")  # a hand-logged accuracy, with somebody else's model next to it
    client = MlflowClient(cls.url)
    green = client.get_experiment_by_name("competition/green").experiment_id
    fake = client.create_run(green, run_name="carol-fake")
    bob_run = client.get_run(honest.run_id)
    client.log_metric(fake.info.run_id, "test_accuracy", 1.0)
    mlflow.set_tracking_uri(cls.url)
    config = mlflow.artifacts.load_text(f"runs:/{honest.run_id}/config.yaml")
    client.log_text(fake.info.run_id, config, "config.yaml")
    for tag in ("model_uri", "data_digest"):
        client.set_tag(fake.info.run_id, tag, bob_run.data.tags[tag])
    client.set_terminated(fake.info.run_id)
    bare = client.create_run(green, run_name="carol-no-model")
    client.log_metric(bare.info.run_id, "test_accuracy", 0.99)
    client.set_terminated(bare.info.run_id)

    entries = leaderboard(cls.url, data_root=str(synthetic.root))
    by_run = {e.run_id: e for e in entries}
    assert by_run[honest.run_id].ranked
    assert by_run[honest.run_id].verified == pytest.approx(honest.metrics["test_accuracy"])
    assert not by_run[fake.info.run_id].ranked
    assert by_run[fake.info.run_id].problem.startswith("logged 1.0000, re-evaluated 0.")
    assert not by_run[bare.info.run_id].ranked
    assert "no logged model" in by_run[bare.info.run_id].problem
    assert entries[0].ranked and all(not e.ranked for e in entries[-2:])
    table = format_leaderboard(entries)
    assert "FLAGGED" in table and "carol-fake" in table


class KillTheServer(Callback):
    """Kills the server process group after ``epoch`` (as a crash or a power cut would)."""

    def __init__(self, process: subprocess.Popen, epoch: int) -> None:
        self.process, self.epoch = process, epoch

    def on_epoch_end(self, record) -> None:
        if record.epoch == self.epoch:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def test_a_server_killed_mid_run_loses_nothing_after_sync(
    tmp_path, make_config, as_user, monkeypatch, free_port
):
    """A server of its own (it gets killed), restarted on the same folder and port."""
    port = free_port()
    monkeypatch.setenv("REPROML_ADMIN_PASSWORD", ADMIN_PASSWORD)
    cls = ClassServer(tmp_path / "server", port=port)
    process = cls.start()
    try:
        as_user("admin", ADMIN_PASSWORD)
        fallback = f"sqlite:///{tmp_path / 'unsynced.db'}"
        config = make_config(
            [
                "tracking=mlflow", f"tracking.uri={cls.url}", "tracking.experiment=solo",
                f"tracking.fallback_uri={fallback}", "trainer.epochs=4",
            ]
        )  # fmt: skip
        result = run_experiment(config, callbacks=[KillTheServer(process, epoch=2)])
        assert "stopped answering during the run" in result.saved_to
        assert "reproml-course sync --store" in result.saved_to

        process = cls.start()  # back, same store
        (synced,) = sync_runs(fallback)
        client = MlflowClient(cls.url)
        run = client.get_run(synced.server_id)
        assert run.info.status == "FINISHED"
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [m.step for m in history] == [1, 2, 3, 4]
        assert run.data.metrics["test_accuracy"] == result.metrics["test_accuracy"]
        assert run.data.params["trainer.epochs"] == "4"
        model = mlflow.pytorch.load_model(run.data.tags["model_uri"])
        assert model is not None
        (partial,) = [
            r
            for r in client.search_runs([run.info.experiment_id])
            if r.info.run_id != run.info.run_id
        ]
        assert partial.info.status == "FAILED" and partial.data.tags[REPLACED_BY] == run.info.run_id
        assert sync_runs(fallback) == []  # nothing twice
    finally:
        stop(process)
