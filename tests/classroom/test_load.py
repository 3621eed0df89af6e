"""A class logging a full run each at the same time: 20 students here, more than the 15
connections SQLAlchemy's pool holds by default (the server's own pool must take them);
benchmarks/server_load.py times 50."""

import sqlite3
from contextlib import closing

import pytest

from reproml_course.classroom.accounts import Account, create_accounts
from reproml_course.classroom.load import check_run, simulate_class
from reproml_course.classroom.server import ClassServer, stop

CLIENTS = 20


@pytest.mark.slow
def test_twenty_students_at_once_all_runs_complete(tmp_path, free_port, monkeypatch):
    monkeypatch.setenv("REPROML_ADMIN_PASSWORD", "load-test-admin-password")
    server = ClassServer(tmp_path / "server", port=free_port())
    process = server.start()
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "load-test-admin-password")
        accounts = [
            Account(f"student{i:02d}", f"password-of-student{i:02d}", f"team{i:02d}")
            for i in range(CLIENTS)
        ]
        create_accounts(server.url, accounts, "load")
        report = simulate_class(server.url, accounts, "load")
        assert report.failures == [] and report.incomplete == []
        assert len(set(report.run_ids)) == CLIENTS and report.ok
        assert check_run(server.url, report.run_ids[0]) is None
        for database in server.sqlite_files():  # MLflow's migrations kept the write-ahead log
            with closing(sqlite3.connect(database)) as connection:
                assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        stop(process)
