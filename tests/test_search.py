"""The search workers' library: a space written in YAML, trials asked and told, a pruned run
KILLED in MLflow, and how many workers fit in memory."""

from __future__ import annotations

import math

import mlflow
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from reproml.base.errors import ConfigError
from reproml.experiment import run_experiment
from reproml.training import EpochRecord
from reproml_course.chapters.pruning import PruneOnValidation
from reproml_course.chapters.search import (
    as_overrides,
    make_study,
    run_trials,
    search_space,
    trials_table,
    workers_that_fit,
)


def test_a_space_is_read_like_the_optuna_sweeper_writes_it():
    space = search_space(
        {"model": ["logreg", "mlp"], "optimizer.lr": {"low": 1e-4, "high": 0.1, "log": True},
         "trainer.epochs": {"low": 1, "high": 5}}
    )  # fmt: skip
    assert space == {
        "model": CategoricalDistribution(["logreg", "mlp"]),
        "optimizer.lr": FloatDistribution(1e-4, 0.1, log=True),
        "trainer.epochs": IntDistribution(1, 5),
    }
    with pytest.raises(ConfigError, match=r"search.space.seed should be a list of choices"):
        search_space({"seed": 3})
    assert as_overrides({"model": "mlp", "optimizer.lr": 0.003}) == [
        "model=mlp", "optimizer.lr=0.003"
    ]  # fmt: skip


def record(epoch: int, value: float) -> EpochRecord:
    return EpochRecord(epoch, 0.5, value + 0.1, value, 1e-3, 0.1)


def test_pruning_reports_each_epoch_and_stops_a_trial_below_the_median():
    study = make_study("t", None, seed=0, prune_from_epoch=2)
    space = {"x": FloatDistribution(0, 1)}
    curves = iter([[0.5, 0.6, 0.7], [0.55, 0.65, 0.75], [0.1, 0.1, 0.1]])

    def train_trial(trial):
        callback = PruneOnValidation(trial)
        curve = next(curves)
        for epoch, value in enumerate(curve, start=1):
            callback.on_epoch_end(record(epoch, value))
        return curve[-1]

    run_trials(study, space, train_trial, 3)
    table = trials_table(study)
    assert table["state"].tolist() == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert table["epochs"].tolist() == [3, 3, 2]
    assert study.trials[0].intermediate_values == {1: 0.5, 2: 0.6, 3: 0.7}
    nan = EpochRecord(1, 0.5, 0.5, math.nan, 1e-3, 0.1)  # no validation split: nothing to say
    PruneOnValidation(study.ask()).on_epoch_end(nan)


def test_a_failing_trial_is_told_and_raised():
    study = make_study("t", None, seed=0)

    def train_trial(trial):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        run_trials(study, {"x": FloatDistribution(0, 1)}, train_trial, 2)
    assert [t.state.name for t in study.trials] == ["FAIL"]


def test_a_pruned_run_ends_killed_in_mlflow(make_config):
    study = make_study("t", None, seed=0, prune_from_epoch=1)
    for value in (0.9, 0.95):
        trial = study.ask()
        trial.report(value, 1)
        study.tell(trial, value)
    trial = study.ask()
    config = make_config(["tracking=mlflow", "tracking.log_model=false", "trainer.epochs=3",
                          "optimizer.lr=0.00001"])  # fmt: skip
    with pytest.raises(optuna.TrialPruned):
        run_experiment(config, callbacks=[PruneOnValidation(trial)])
    (run,) = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert run.info.status == "KILLED"
    assert "at epoch" in run.data.tags["pruned"]  # a failed run has no such tag


def test_workers_that_fit_leave_room_for_the_notebook(monkeypatch):
    import reproml_course.chapters.search as search

    monkeypatch.setattr(search, "memory_limit_bytes", lambda: 2 * 2**30)  # Binder
    assert workers_that_fit(2) == 0
    monkeypatch.setattr(search, "memory_limit_bytes", lambda: 4 * 2**30)
    assert workers_that_fit(2) == 2
    monkeypatch.setattr(search, "memory_limit_bytes", lambda: 3 * 2**30)
    assert workers_that_fit(2) == 1
    monkeypatch.setattr(search, "memory_limit_bytes", lambda: None)
    assert workers_that_fit(3) == 3
