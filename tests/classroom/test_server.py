"""The class server for real: accounts, permissions, a verified leaderboard, a server that dies
mid-run. One server (started through the CLI) serves the module; every test is slow."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import torch
from class_server import ADMIN_PASSWORD, STUDENTS, wait_until_up
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from reproml.experiment import run_experiment
from reproml.tracking.stores import TrackingError, check_tracking_uri, using_tracking_uri
from reproml.training import Callback
from reproml_course.classroom.leaderboard import read_leaderboard
from reproml_course.classroom.records import VERDICT_TAG, Records, records_experiment
from reproml_course.classroom.server import ClassServer, stop
from reproml_course.classroom.submissions import SUBMITTED_TAG, submit_run
from reproml_course.classroom.sync import REPLACED_BY, sync_runs

pytestmark = pytest.mark.slow


def entry(make_config, url, user, *overrides):
    return make_config(
        [
            "tracking=mlflow",
            f"tracking.uri={url}",
            f"tracking.experiment=competition/{STUDENTS[user]}",
            f"tracking.run_name={user}-cnn",
            "data.test=false",
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


class Exploding(torch.nn.Module):
    """A real model whose unpickling runs a shell command (``__reduce_ex__``)."""

    command = "true"

    def forward(self, x):
        return x.flatten(1)[:, :10]

    def __reduce_ex__(self, protocol):
        return (os.system, (self.command,))


def leaderboard_cli(url: str, data_root, *extra: str) -> subprocess.CompletedProcess:
    """``reproml-course leaderboard --server URL`` as the admin, with no MLFLOW_TRACKING_URI."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD}
    return subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "leaderboard", "--server", url,
         "--data-root", str(data_root), *extra],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_leaderboard_verifies_each_run_once_and_runs_no_student_code(
    server, make_config, as_user, synthetic, tmp_path
):
    cls, _ = server
    marker = tmp_path / "PAYLOAD_RAN"
    as_user("bob")
    honest = run_experiment(entry(make_config, cls.url, "bob"))
    submit_run(honest.run_id, cls.url)
    unsubmitted = run_experiment(entry(make_config, cls.url, "bob", "seed=1"))
    as_user("carol")
    client = MlflowClient(cls.url)
    green = client.get_experiment_by_name("competition/green").experiment_id
    bob_run = client.get_run(honest.run_id)
    borrowed = client.create_run(green, run_name="carol-borrowed")  # bob's model, by its tag
    for key, value in bob_run.data.params.items():
        client.log_param(borrowed.info.run_id, key, value)
    for tag in ("model_uri", "data_digest"):
        client.set_tag(borrowed.info.run_id, tag, bob_run.data.tags[tag])
    client.set_terminated(borrowed.info.run_id)
    submit_run(borrowed.info.run_id, cls.url)
    mlflow.set_tracking_uri(cls.url)
    Exploding.command = f"touch {marker}"
    with mlflow.start_run(experiment_id=green, run_name="carol-pickle") as run:
        mlflow.log_params({k: v for k, v in bob_run.data.params.items() if k.startswith("data.")})
        mlflow.pytorch.log_model(
            Exploding(), name="model", serialization_format="pickle", pip_requirements=["torch"]
        )
    pickled = run.info.run_id
    submit_run(pickled, cls.url)
    assert not marker.exists()  # logging it did not run it either
    with mlflow.start_run(experiment_id=green, run_name="carol-tested") as run:
        mlflow.log_metric("test_accuracy", 0.99)
    client.set_tag(run.info.run_id, SUBMITTED_TAG, "2026-01-01T00:00:00Z by hand")
    tested = run.info.run_id

    done = leaderboard_cli(cls.url, synthetic.root)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    as_user("carol")  # a student reads the verdicts: on the server, written by the admin
    kept = Records(client, "competition")
    verdicts = kept.verdicts()
    assert verdicts[honest.run_id].ranked
    assert verdicts[honest.run_id].test_images == len(synthetic.test_labels)
    assert 0.1 < verdicts[honest.run_id].verified <= 1
    assert "no model of its own" in verdicts[borrowed.info.run_id].problem
    assert "holds data/model.pth" in verdicts[pickled].problem
    assert unsubmitted.run_id not in verdicts and tested not in verdicts  # never tested
    (refused,) = [s for s in kept.submissions() if s.refused]
    assert refused.run_id == tested and "tested before it was submitted" in refused.refused
    rows = {row.team: row for row in read_leaderboard(cls.url)}  # a row per team: the latest
    assert rows["blue"].run_id == honest.run_id and rows["green"].run_id == pickled
    assert "FLAGGED" in done.stdout and "carol-pickle" in done.stdout
    assert "refused: green's carol-tested" in done.stdout

    records = client.get_experiment_by_name(records_experiment("competition")).experiment_id
    for attempt in (  # the verdicts are the admin's
        lambda: client.create_run(records),
        lambda: client.set_tag(next(iter(client.search_runs([records]))).info.run_id, "x", "y"),
        lambda: client.set_experiment_tag(records, "reproml.team.999", "mine"),
    ):
        with pytest.raises(MlflowException, match="403"):
            attempt()
    client.set_tag(pickled, VERDICT_TAG, "ranked")  # carol edits her own run's copy

    again = leaderboard_cli(cls.url, tmp_path / "no-data-needed")
    assert again.returncode == 0, again.stderr
    assert "0 new submissions (0 refused); 0 runs tested" in again.stdout
    assert "1 runs had their verdict tags edited: written back." in again.stdout
    assert client.get_run(pickled).data.tags[VERDICT_TAG].startswith("flagged")


def test_three_teams_submit_one_run_each_and_only_those_are_tested(
    server, make_config, as_user, synthetic, tmp_path
):
    """The competition as a workshop runs it: each team logs several runs, chooses one on
    validation and submits it; one row per team, and no test accuracy of any other run exists
    anywhere in the store (its runs, its records), as the admin sees it."""
    from mlflow.entities import ViewType

    cls, _ = server
    logged, submitted = {}, {}
    for user in STUDENTS:
        as_user(user)
        runs = [
            run_experiment(entry(make_config, cls.url, user, "model=logreg", f"seed={seed}",
                                 f"tracking.run_name={user}-{seed}"))
            for seed in (11, 12)
        ]  # fmt: skip
        chosen = max(runs, key=lambda r: r.metrics["val_accuracy"])
        submit_run(chosen.run_id, cls.url)
        logged[user] = {r.run_id for r in runs}
        submitted[user] = chosen.run_id
    done = leaderboard_cli(cls.url, synthetic.root)
    assert done.returncode == 0, done.stderr
    as_user("carol")
    rows = {row.team: row for row in read_leaderboard(cls.url)}
    for user, team in STUDENTS.items():
        assert rows[team].run_id == submitted[user] and rows[team].ranked
    as_user("admin", ADMIN_PASSWORD)
    client = MlflowClient(cls.url)
    experiments = client.search_experiments(view_type=ViewType.ALL)
    everything = client.search_runs(
        [e.experiment_id for e in experiments], run_view_type=ViewType.ALL, max_results=50_000
    )
    unsubmitted = set().union(*logged.values()) - set(submitted.values())
    for run in everything:
        about = {run.info.run_id, run.data.tags.get("reproml.run_id")}
        if about & unsubmitted:
            assert run.info.run_id in unsubmitted  # no record names an unsubmitted run
            assert not [k for k in run.data.metrics if "test" in k], run.data.metrics
            assert not [k for k in run.data.tags if "verified" in k or "verdict" in k]
    for run_id in unsubmitted:  # nor in their artifacts: the confusion matrix is validation's
        path = client.download_artifacts(run_id, "confusion_matrix.json", str(tmp_path))
        assert json.loads(Path(path).read_text())["split"] == "validation"


def test_a_squatted_or_renamed_team_fools_nobody(server, as_user, make_config, synthetic):
    cls, _ = server
    as_user("carol")
    client = MlflowClient(cls.url)
    client.create_experiment("competition/purple")  # before the instructor adds that team
    csv = cls.folder / "late.csv"
    csv.write_text(
        "username,password,team\ndave,dave-secret-password,purple\n"
        "erin,erin-secret-password,orange\n"
    )
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "accounts", str(csv),
         "--server", cls.url],
        env={**os.environ, **admin}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "'competition/purple' was made by someone else: carol (MANAGE)" in done.stderr
    assert "Not created: dave." in done.stderr
    assert "erin: created, logs to experiment 'competition/orange'" in done.stderr
    as_user("dave", "dave-secret-password")
    with pytest.raises(TrackingError, match="HTTP 401"):  # no account was made for dave
        check_tracking_uri(cls.url)
    as_user("erin", "erin-secret-password")  # the squatted team held nobody else back
    check_tracking_uri(cls.url)

    as_user("alice")  # red renames itself as another team, then out of the competition
    red = client.get_experiment_by_name("competition/red").experiment_id
    submitted = run_experiment(entry(make_config, cls.url, "alice")).run_id
    submit_run(submitted, cls.url)
    MlflowClient(cls.url).rename_experiment(red, "competition/blue ")
    assert leaderboard_cli(cls.url, synthetic.root).returncode == 0
    as_user("carol")
    teams = {v.team for v in read_leaderboard(cls.url) if v.team_id == red}
    assert teams == {"red"}
    as_user("alice")  # the team is the experiment accounts made, whatever its name now
    MlflowClient(cls.url).rename_experiment(red, "competition/red")
    submitted = run_experiment(entry(make_config, cls.url, "alice")).run_id
    submit_run(submitted, cls.url)
    MlflowClient(cls.url).rename_experiment(red, "blue")
    assert leaderboard_cli(cls.url, synthetic.root, "--per-day", "100").returncode == 0
    as_user("carol")
    (row,) = [v for v in read_leaderboard(cls.url) if v.team_id == red]
    assert (row.team, row.run_id, row.ranked) == ("red", submitted, True)
    assert "purple" not in {v.team for v in read_leaderboard(cls.url)}  # not a team


def test_the_server_keeps_its_files_to_itself(server, as_user):
    cls, process = server
    as_user("admin", ADMIN_PASSWORD)
    client = MlflowClient(cls.url)
    run = client.create_run(client.create_experiment("files"))
    client.log_text(run.info.run_id, "an artifact", "note.txt")  # written by the server
    assert stat.S_IMODE(cls.folder.stat().st_mode) == 0o700
    for name in ("auth.db", "mlflow.db", "server.log", "secret_key.txt"):
        assert stat.S_IMODE((cls.folder / name).stat().st_mode) == 0o600, name
    artifacts = [p for p in (cls.folder / "artifacts").rglob("*") if p.is_file()]
    assert artifacts and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in artifacts)
    # The runs database's URI (a PostgreSQL password, in a real class) is on no command line
    # of the server or its workers, which do know it (from their environment).
    servers = [pid for pid in descendants(process.pid) if b"mlflow" in _cmdline(pid)]
    assert servers and not any(b"mlflow.db" in _cmdline(pid) for pid in servers)
    environment = Path(f"/proc/{servers[0]}/environ").read_bytes()
    assert b"MLFLOW_BACKEND_STORE_URI=sqlite:" in environment


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


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
        assert mlflow.get_tracking_uri() != cls.url  # the run put back the URI it found
        with using_tracking_uri(cls.url):  # models:/ resolves against the global URI
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


def test_sigterm_stops_the_whole_server(tmp_path, free_port):
    """systemd, a container or `kill PID` stop a service with SIGTERM to its main process; the
    MLflow server and its workers, in a session of their own, used to run on."""
    port = free_port()
    env = {**os.environ, "REPROML_ADMIN_PASSWORD": ADMIN_PASSWORD}
    process = subprocess.Popen(
        [sys.executable, "-m", "reproml_course.cli.course", "server", "--port", str(port),
         "--folder", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    started: list[int] = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        started = descendants(process.pid)
        assert started, "the server runs in processes of its own"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=120)
        deadline = time.monotonic() + 30
        while (left := [p for p in started if _cmdline(p)]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not left, f"still running after SIGTERM: {[_cmdline(p)[:80] for p in left]}"
        assert process.returncode == 0 and "Server stopped." in out
    finally:
        for pid in [process.pid, *started]:  # what a failure left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
