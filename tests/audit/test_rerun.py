from __future__ import annotations

import pytest

from reproml.experiment import run_experiment
from reproml.tracking.stores import TrackingError
from reproml_course.chapters.audit import rerun
from reproml_course.cli.rerun import main as rerun_main


@pytest.fixture
def logged_run(tracked_config, data):
    cfg = tracked_config("mlflow", ["model=mlp", "trainer.epochs=2", "tracking.log_model=false"])
    return run_experiment(cfg, data=data)


def test_a_rerun_reproduces_every_metric_exactly(logged_run, mlflow_uri):
    comparison = rerun(logged_run.run_id)
    assert comparison.identical
    names = {m.name for m in comparison.metrics}
    assert {"test_accuracy", "test_macro_f1", "train_loss@1", "val_accuracy@2"} <= names
    assert comparison.environment == {}
    assert comparison.rerun_id not in (None, logged_run.run_id)
    assert "11 of 11 metrics identical" in str(comparison)


def test_a_changed_seed_is_reported_metric_by_metric(logged_run):
    comparison = rerun(logged_run.run_id, overrides={"seed": 7}, log=False)
    assert not comparison.identical
    assert comparison.rerun_id is None
    assert "DIFFERS" in str(comparison)


def test_an_unknown_run_is_one_clear_error():
    with pytest.raises(TrackingError, match="Cannot re-run 'nope'"):
        rerun("nope")


def test_cli_exit_status_follows_diff(logged_run, capsys):
    assert rerun_main([logged_run.run_id, "--no-log"]) == 0
    assert "identical" in capsys.readouterr().out
    assert rerun_main(["nope"]) == 2
