"""Chapter 04's check of the choice of the best run on validation (4.2)."""

from __future__ import annotations

import math
import random
from typing import Any

from reproml.checks.base import call, exercise, expect
from reproml.checks.stores import scratch_store


@exercise("4.2", "the best run on validation, and its test accuracy, reported once", points=2)
def exercise_4_2(best_run: Any) -> None:
    """mlflow.search_runs(experiment_names=[...]) returns a pandas table, one row per run, with the
    columns 'run_id', 'status' and 'metrics.<name>'; its filter_string can test
    attributes.status and its order_by takes 'metrics.<name> DESC'; pandas' dropna(subset=...)
    drops runs without a value."""
    import mlflow

    rng = random.Random()
    experiment = f"check-4-2-{rng.randrange(10**6)}"
    with scratch_store(experiment):
        while True:
            runs = {f"run{i}": (rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.9)) for i in range(7)}
            best_val = max(runs, key=lambda r: runs[r][0])
            if best_val != max(runs, key=lambda r: runs[r][1]):
                break
        ids = {}
        for name, (val, test) in runs.items():
            with mlflow.start_run(run_name=name) as run:
                mlflow.log_metrics({"val_accuracy": val, "test_accuracy": test})
                ids[run.info.run_id] = name
        with mlflow.start_run() as failed:  # the highest validation accuracy, but it failed
            mlflow.log_metrics({"val_accuracy": 0.99, "test_accuracy": 0.99})
        mlflow.MlflowClient().set_terminated(failed.info.run_id, "FAILED")
        with mlflow.start_run():  # finished, but logged nothing
            pass
        other = mlflow.create_experiment(f"{experiment}-other")
        with mlflow.start_run(experiment_id=other):  # another experiment entirely
            mlflow.log_metrics({"val_accuracy": 0.98, "test_accuracy": 0.98})
        mlflow.set_experiment(experiment)
        found = call(best_run, experiment, what=f"best_run({experiment!r})")
        expect(
            isinstance(found, tuple) and len(found) == 2,
            f"best_run should return (run_id, test_accuracy), got {found!r}.",
            "return a pair: the chosen run's id, and its test accuracy.",
        )
        run_id, test = found
        chosen = ids.get(run_id)
        expect(
            run_id != failed.info.run_id,
            "best_run chose a run that FAILED.",
            "only finished runs count.",
        )
        expect(
            chosen is not None,
            f"best_run returned {run_id!r}, which is not a finished run of that experiment "
            "with metrics.",
            "search the experiment of that name only, and its finished runs.",
        )
        expect(
            chosen != max(runs, key=lambda r: runs[r][1]),
            "best_run chose the run with the best *test* accuracy.",
            "choose on validation; the test accuracy is only reported, for the chosen run.",
        )
        expect(
            chosen == best_val,
            f"best_run chose a run with val_accuracy={runs[chosen][0]:.4f}, but another "
            f"finished run has {runs[best_val][0]:.4f} (checked on a new store with "
            f"{len(runs)} runs).",
            "sort the finished runs by validation accuracy, best first.",
        )
        expect(
            isinstance(test, float) and math.isclose(test, runs[chosen][1]),
            f"best_run returned {test!r} as the test accuracy of the chosen run, which "
            f"logged {runs[chosen][1]:.4f}.",
            "report the chosen run's test accuracy, not its validation accuracy.",
        )
