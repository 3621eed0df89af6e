"""The class server's guard (``guard.py``), attacked on a real server as another student would:
requests whose query string and body name different objects, password guessing, a password
that should stop working, uploads past the quota."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from class_server import ADMIN_PASSWORD, password
from mlflow import MlflowClient

from reproml_course.classroom.guard_logins import FAILED_PER_USER, WINDOW, FailedLogins

SERVER_ENVIRONMENT = {"REPROML_MAX_UPLOAD_MB": "2", "REPROML_QUOTA_MB": "5"}


def call(url: str, user: str, method: str, path: str, secret: str | None = None, **kwargs):
    return requests.request(
        method, f"{url}{path}", auth=(user, secret or password(user)), timeout=30, **kwargs
    )


@pytest.fixture(scope="module")
def models(server, tmp_path_factory):
    """alice's registered model (a tag, a version, an alias) and prompt; bob's model."""
    import os

    cls, _ = server
    folder = tmp_path_factory.mktemp("artifact")
    (folder / "weights.bin").write_bytes(b"w")
    os.environ.update(MLFLOW_TRACKING_USERNAME="alice", MLFLOW_TRACKING_PASSWORD=password("alice"))
    try:
        alice = MlflowClient(cls.url)
        red = alice.get_experiment_by_name("competition/red").experiment_id
        run = alice.create_run(red)
        alice.log_artifact(run.info.run_id, str(folder / "weights.bin"), "model")
        alice.create_registered_model("alice-model", tags={"owner": "alice"})
        version = alice.create_model_version(
            "alice-model", f"{run.info.artifact_uri}/model", run.info.run_id
        )
        alice.set_model_version_tag("alice-model", version.version, "owner", "alice")
        alice.set_registered_model_alias("alice-model", "champion", version.version)
        import mlflow

        mlflow.set_tracking_uri(cls.url)
        mlflow.genai.register_prompt("alice-prompt", "Classify {{image}}.")
        os.environ.update(MLFLOW_TRACKING_USERNAME="bob", MLFLOW_TRACKING_PASSWORD=password("bob"))
        MlflowClient(cls.url).create_registered_model("bob-model", tags={"owner": "bob"})
    finally:
        for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(key, None)
    return cls.url


# (path, bob's own object in the query string, alice's in the body)
ATTACKS = {
    "registered model": ("registered-models/delete", {"name": "bob-model"},
                         {"name": "alice-model"}),
    "its tag": ("registered-models/delete-tag", {"name": "bob-model", "key": "owner"},
                {"name": "alice-model", "key": "owner"}),
    "its alias": ("registered-models/alias", {"name": "bob-model", "alias": "champion"},
                  {"name": "alice-model", "alias": "champion"}),
    "its version": ("model-versions/delete", {"name": "bob-model", "version": "1"},
                    {"name": "alice-model", "version": "1"}),
    "a version's tag": ("model-versions/delete-tag",
                        {"name": "bob-model", "version": "1", "key": "owner"},
                        {"name": "alice-model", "version": "1", "key": "owner"}),
    "a prompt": ("registered-models/delete", {"name": "bob-model"}, {"name": "alice-prompt"}),
}  # fmt: skip


def alice_s_things(url: str) -> dict:
    """What bob must not delete, read by the admin."""

    def get(path, **params):
        return call(url, "admin", "GET", f"/api/2.0/mlflow/{path}", ADMIN_PASSWORD, params=params)

    model = get("registered-models/get", name="alice-model").json().get("registered_model", {})
    version = get("model-versions/get", name="alice-model", version="1").json()
    prompt = get("registered-models/get", name="alice-prompt")
    return {
        "tags": model.get("tags"), "aliases": model.get("aliases"),
        "version": version.get("model_version", {}).get("tags"), "prompt": prompt.status_code,
    }  # fmt: skip


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("content_type", ["text/plain", None, "application/json"])
def test_a_request_naming_two_objects_is_refused(models, attack, content_type):
    """bob may delete his own model: the query string names it, for MLflow's permission check;
    the body names alice's, which MLflow's handler read when the body was not declared JSON."""
    url = models
    path, mine, theirs = ATTACKS[attack]
    before = alice_s_things(url)
    import json

    headers = {"Content-Type": content_type} if content_type else {}
    answer = call(url, "bob", "DELETE", f"/api/2.0/mlflow/{path}", params=mine,
                  data=json.dumps(theirs), headers=headers)  # fmt: skip
    assert alice_s_things(url) == before, answer.text  # nothing of alice's deleted
    assert answer.status_code == 400 and "JSON" in answer.json()["message"], answer.text


def test_a_json_body_alone_is_judged_by_mlflow_as_before(models):
    url = models
    answer = call(url, "bob", "DELETE", "/api/2.0/mlflow/registered-models/delete",
                  json={"name": "alice-model"})  # fmt: skip
    assert answer.status_code == 403
    assert call(url, "bob", "DELETE", "/api/2.0/mlflow/registered-models/delete-tag",
                json={"name": "bob-model", "key": "owner"}).status_code == 200  # fmt: skip


def test_failed_logins_are_slowed(models):
    """Each of the server's two workers lets a name try FAILED_PER_USER wrong passwords from
    one address in a minute, then answers 429, to the right password too; another student
    from the same address is not held back."""
    url = models
    codes = [
        call(url, "carol", "GET", "/api/2.0/mlflow/experiments/search?max_results=1",
             secret=f"guess-{i}").status_code
        for i in range(4 * FAILED_PER_USER)
    ]  # fmt: skip
    assert set(codes) == {401, 429} and codes.count(401) <= 2 * FAILED_PER_USER
    assert codes[-3:] == [429, 429, 429] or codes.count(429) >= FAILED_PER_USER
    locked = call(url, "carol", "GET", "/api/2.0/mlflow/experiments/search?max_results=1")
    retry = locked.headers.get("Retry-After")
    assert locked.status_code in (200, 429) and (locked.status_code == 200 or int(retry) >= 1)
    assert call(url, "alice", "GET", "/api/2.0/mlflow/experiments/search?max_results=1").ok


def test_the_count_of_failed_logins_forgets_after_a_minute_and_on_success():
    failed = FailedLogins()
    for second in range(FAILED_PER_USER):
        failed.failed("carol", "10.0.0.7", float(second))
    assert failed.wait("carol", "10.0.0.7", 10.0) == pytest.approx(WINDOW - 10.0)
    assert failed.wait("carol", "10.0.0.8", 10.0) == 0  # another address
    assert failed.wait("carol", "10.0.0.7", WINDOW + 0.5) == 0  # the first failure expired
    failed.failed("carol", "10.0.0.7", WINDOW + 1)
    failed.succeeded("carol", "10.0.0.7")
    assert failed.wait("carol", "10.0.0.7", WINDOW + 2) == 0


def test_a_changed_password_stops_working_at_once(models, tmp_path):
    """Both workers have the old password cached; `accounts` changes it through one."""
    url = models
    for _ in range(8):  # warm both workers' caches
        assert call(url, "alice", "GET", "/api/2.0/mlflow/experiments/search?max_results=1").ok
    csv = tmp_path / "students.csv"
    csv.write_text("username,password,team\nalice,alice-new-password,red\n")
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD}
    import os

    done = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "accounts", str(csv), "--server", url],
        env={**os.environ, **admin}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    old = [
        call(url, "alice", "GET", "/api/2.0/mlflow/experiments/search?max_results=1").status_code
        for _ in range(8)
    ]
    assert 200 not in old, old
    new = call(url, "alice", "GET", "/api/2.0/mlflow/experiments/search?max_results=1",
               secret="alice-new-password")  # fmt: skip
    assert new.status_code in (200, 429)  # 429: this worker counted the old password's tries


def test_uploads_over_the_limits_are_refused(models, tmp_path, monkeypatch):
    url = models
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password("bob"))
    client = MlflowClient(url)
    blue = client.get_experiment_by_name("competition/blue").experiment_id
    run = client.create_run(blue).info.run_id
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * 3_000_000)
    with pytest.raises(requests.HTTPError, match="at most 2 MB"):
        client.log_artifact(run, str(big))
    part = tmp_path / "part.bin"
    part.write_bytes(b"\0" * 1_500_000)
    with pytest.raises(requests.HTTPError, match="past its 5 MB quota"):
        for _ in range(4):  # 6 MB in all
            client.log_artifact(run, str(part), f"part-{_}")
    chunked = call(url, "bob", "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{blue}/x/y.bin",
                   data=iter([b"a", b"b"]))  # fmt: skip
    assert chunked.status_code == 411
    # The UI's upload (file as the body, run and path in the query) counts against the quota
    ui = "/ajax-api/2.0/mlflow/upload-artifact"
    query = {"run_uuid": run, "path": "ui.bin"}
    over = call(url, "bob", "POST", ui, params=query, data=b"\0" * 1_000_000)
    assert over.status_code == 413 and "past its 5 MB quota" in over.json()["message"]
    fresh = client.create_run(client.create_experiment("bob-sandbox")).info.run_id
    fits = call(url, "bob", "POST", ui, params={**query, "run_uuid": fresh}, data=b"\1" * 10)
    assert fits.ok, fits.text  # and the guard does not break it
