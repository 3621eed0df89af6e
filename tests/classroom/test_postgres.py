"""The class server on a real PostgreSQL store, for classes that outgrow a SQLite file.

Needs a PostgreSQL database: `.ci/run` installs and starts one from Debian's packages and sets
REPROML_TEST_POSTGRES_URI (see docs/instructor.md); elsewhere the test is skipped.
"""

import os

import pytest
from mlflow import MlflowClient

from reproml.experiment import run_experiment
from reproml_course.classroom.accounts import Account, create_accounts
from reproml_course.classroom.leaderboard import read_leaderboard, verify_competition
from reproml_course.classroom.server import ClassServer, stop
from reproml_course.classroom.submissions import submit_run

POSTGRES = os.environ.get("REPROML_TEST_POSTGRES_URI")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES, reason="set REPROML_TEST_POSTGRES_URI to a PostgreSQL"),
]


def test_a_class_on_postgresql(tmp_path, free_port, make_config, monkeypatch, synthetic):
    monkeypatch.setenv("REPROML_ADMIN_PASSWORD", "postgres-admin-password")
    server = ClassServer(tmp_path / "server", port=free_port(), store=POSTGRES)
    process = server.start()
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "postgres-admin-password")
        create_accounts(server.url, [Account("dana", "dana-long-password", "pg")])
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "dana")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "dana-long-password")
        config = make_config(
            ["tracking=mlflow", f"tracking.uri={server.url}", "tracking.experiment=competition/pg",
             "data.test=false"]
        )  # fmt: skip
        result = run_experiment(config)
        run = MlflowClient(server.url).get_run(result.run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics["val_accuracy"] == result.metrics["val_accuracy"]
        submit_run(result.run_id, server.url)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "postgres-admin-password")
        verify_competition(server.url, data_root=str(synthetic.root))
        (entry,) = [e for e in read_leaderboard(server.url) if e.team == "pg"]
        assert entry.ranked and entry.run_id == result.run_id
    finally:
        stop(process)
    # The runs are in PostgreSQL itself, not in a file next to the server.
    assert not (tmp_path / "server" / "mlflow.db").exists()
    import sqlalchemy

    with sqlalchemy.create_engine(POSTGRES).connect() as connection:
        ids = connection.execute(sqlalchemy.text("SELECT run_uuid FROM runs")).scalars().all()
    assert result.run_id in ids
