"""Chapter 04's checks against the tracking code students really write: parameters typed by
hand or nested, metrics without a step, no model, a run left RUNNING when training crashes, a
best run chosen on the test set or among failed runs."""

from __future__ import annotations

import mlflow
import pytest
from solution_cells import code_cell, define, mutate

TRACKING = code_cell("04_mlflow.ipynb", "def train_and_track")
BEST = code_cell("04_mlflow.ipynb", "def best_run")


@pytest.fixture(autouse=True)
def _data(hard_synthetic, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))


def tracker(old: str = "", new: str = ""):
    code = mutate(TRACKING, old, new) if old else TRACKING
    return define(code, "train_and_track", {"mlflow": mlflow})


def test_the_solution_passes_4_1(evaluate):
    assert evaluate("4.1", tracker()) == (True, "passed")


TRACKING_MISTAKES = {
    "parameters typed by hand": (
        ("mlflow.log_params(flatten_config(config))",
         'mlflow.log_params({"model": config.model.name, "lr": config.optimizer.lr})'),
        "the run's parameters are not the configuration that ran",
    ),
    "parameters nested": (
        ("mlflow.log_params(flatten_config(config))",
         "mlflow.log_params(dict(config))"),
        "the run's parameters are not the configuration that ran",
    ),
    "epoch metrics without a step": (
        ("            step=record.epoch,\n", ""),
        "has values at steps",
    ),
    "no model": (
        ("        mlflow.pytorch.log_model(", "        (lambda *args, **kwargs: None)("),
        "the run has no logged model",
    ),
    "no data set": (
        ('        mlflow.log_input(train_set, context="training")\n', ""),
        "the run has no data set among its inputs",
    ),
    "a run left open when training fails": (
        ('    with mlflow.start_run(run_name=f"{config.model.name}-{config.optimizer.name}"):\n',
         "    mlflow.start_run()\n    if True:\n"),
        "the run was left RUNNING",
    ),
    "the failure swallowed": (
        ("        result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])",
         "        try:\n"
         "            result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])\n"
         "        except RuntimeError:\n"
         "            return None"),
        "returned as if nothing happened",
    ),
    "callbacks not passed on": (
        ("callbacks=[LogEpoch(), *callbacks]", "callbacks=[LogEpoch()]"),
        "returned as if nothing happened",
    ),
    "a store of its own": (
        ("    with mlflow.start_run(",
         "    mlflow.set_tracking_uri('sqlite:///elsewhere.db')\n    with mlflow.start_run("),
        "train_and_track changed the tracking URI",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", TRACKING_MISTAKES)
def test_wrong_tracking_code_fails_4_1(evaluate, mistake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a stray relative store would go
    (old, new), message = TRACKING_MISTAKES[mistake]
    code = mutate(TRACKING, old, new)
    if mistake == "a run left open when training fails":  # ended by hand, when all goes well
        code = mutate(code, "    return result", "    mlflow.end_run()\n    return result")
    passed, said = evaluate("4.1", define(code, "train_and_track", {"mlflow": mlflow}))
    assert not passed and message in said


def chooser(old: str = "", new: str = ""):
    return define(mutate(BEST, old, new) if old else BEST, "best_run", {"mlflow": mlflow})


def test_the_solution_passes_4_2(evaluate):
    assert evaluate("4.2", chooser()) == (True, "passed")


CHOICE_MISTAKES = {
    "on the test set": (
        ('order_by=["metrics.val_accuracy DESC"]', 'order_by=["metrics.test_accuracy DESC"]'),
        "chose the run with the best *test* accuracy",
    ),
    "failed runs too": (
        ("filter_string=\"attributes.status = 'FINISHED'\",", ""),
        "chose a run that FAILED",
    ),
    "the validation accuracy reported": (
        ('float(best["metrics.test_accuracy"])', 'float(best["metrics.val_accuracy"])'),
        "as the test accuracy of the chosen run",
    ),
    "every experiment": (
        ("experiment_names=[experiment_name],", "search_all_experiments=True,"),
        "which is not a finished run of that experiment",
    ),
    "the id alone": (
        ('return best["run_id"], float(best["metrics.test_accuracy"])', 'return best["run_id"]'),
        "best_run should return (run_id, test_accuracy)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", CHOICE_MISTAKES)
def test_a_wrong_choice_fails_4_2(evaluate, mistake):
    (old, new), message = CHOICE_MISTAKES[mistake]
    passed, said = evaluate("4.2", chooser(old, new))
    assert not passed and message in said
