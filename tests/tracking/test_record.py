"""What a run logs (reproml.tracking.record)."""

from __future__ import annotations

import pytest


def test_a_data_set_created_by_another_process_meanwhile_is_logged_on_the_next_try(monkeypatch):
    """Two runs starting together both insert the same data set; MLflow's second insert breaks
    the unique key (seen with two search workers). The retry finds the other's row."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from reproml.tracking.record import log_input_once

    calls = []

    def racing(dataset, context):
        calls.append(context)
        if len(calls) == 1:
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets")

    monkeypatch.setattr(mlflow, "log_input", racing)
    log_input_once(object(), "training")
    assert calls == ["training", "training"]

    def broken(dataset, context):
        raise MlflowException("no such experiment")

    monkeypatch.setattr(mlflow, "log_input", broken)
    with pytest.raises(MlflowException, match="no such experiment"):
        log_input_once(object(), "training")
