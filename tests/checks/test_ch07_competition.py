"""Chapter 07's submission check against what students submit: the run the test set chose,
a run tested on a subset, a number logged by hand, a run outside the competition, a run id
that is not one (a real local store, runs trained on synthetic data)."""

from __future__ import annotations

import mlflow
import pytest

from reproml.experiment import run_experiment
from reproml.notebook import setup_course

pytestmark = pytest.mark.slow


@pytest.fixture
def runs(hard_synthetic, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))
    setup = setup_course(quick=True)

    def entry(*overrides, experiment="competition/me"):
        config = setup.config(
            "model=logreg", "tracking=mlflow", f"tracking.experiment={experiment}",
            "data.test_size=null", "trainer.progress=false", *overrides,
        )  # fmt: skip
        result = run_experiment(config)
        run = mlflow.MlflowClient().get_run(result.run_id)
        return result.run_id, run.data.metrics

    made = [entry(f"optimizer.lr={lr}", "trainer.epochs=2") for lr in (0.3, 0.001, 0.03)]
    return entry, made


def test_the_best_run_on_validation_passes_and_the_others_fail(evaluate, runs):
    _, made = runs
    by_val = sorted(made, key=lambda r: r[1]["val_accuracy"])
    assert by_val[-1][1]["val_accuracy"] > by_val[0][1]["val_accuracy"]
    assert evaluate("7.1", by_val[-1][0]) == (True, "passed")
    passed, said = evaluate("7.1", by_val[0][0])
    assert not passed and "better validation accuracy" in said


def test_a_subset_a_hand_logged_number_and_a_stray_run_fail(evaluate, runs):
    entry, _ = runs
    subset, _ = entry("data.test_size=50", "optimizer.lr=0.03", "trainer.epochs=3")
    passed, said = evaluate("7.1", subset)
    assert not passed and "tested on 50 images only" in said

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("competition/me").experiment_id
    fake = client.create_run(experiment, run_name="by-hand").info.run_id
    client.log_metric(fake, "val_accuracy", 1.0)
    client.log_metric(fake, "test_accuracy", 0.99)
    client.set_terminated(fake)
    passed, said = evaluate("7.1", fake)
    assert not passed and "logged no model" in said

    elsewhere, _ = entry(experiment="practice")
    passed, said = evaluate("7.1", elsewhere)
    assert not passed and "not in your competition experiment" in said

    passed, said = evaluate("7.1", "0123456789abcdef0123456789abcdef")
    assert not passed and "there is no run" in said
