"""Chapter 04: MLflow. Each check works in a throwaway SQLite store and restores yours after."""

from __future__ import annotations

import contextlib
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.data import CLASSES


@contextlib.contextmanager
def _scratch_store() -> Iterator[Path]:
    import mlflow

    if mlflow.active_run() is not None:
        raise CheckFailed(
            "an MLflow run is still active in this notebook, so the check cannot start its own.",
            "run mlflow.end_run() (or use `with mlflow.start_run():`), then this cell again.",
        )
    previous = mlflow.get_tracking_uri()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
        try:
            yield Path(tmp)
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run("KILLED")
            mlflow.set_tracking_uri(previous)


@exercise("4.1", "log the confusion matrix to the active run", points=2)
def exercise_4_1(log_confusion_matrix: Any) -> None:
    import mlflow
    import torch

    matrix = torch.randint(0, 50, (len(CLASSES), len(CLASSES)))
    with _scratch_store() as tmp:
        # Artifacts in the scratch folder too (MLflow's default is ./mlruns in the cwd).
        mlflow.create_experiment("check-4-1", artifact_location=str(tmp / "artifacts"))
        mlflow.set_experiment("check-4-1")
        with mlflow.start_run() as run:
            call(
                log_confusion_matrix,
                matrix,
                list(CLASSES),
                what="log_confusion_matrix(matrix, class_names)",
            )
            expect(
                mlflow.active_run() is not None
                and mlflow.active_run().info.run_id == run.info.run_id,
                "log_confusion_matrix ended the run, or started another one.",
                "log into the run that is already active: no start_run or end_run inside.",
            )
        names = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
        for name in ("confusion_matrix.json", "confusion_matrix.png"):
            expect(
                name in names,
                f"the run has no artifact {name!r}; it has {sorted(names) or 'none'}.",
                "mlflow.log_dict for the JSON, mlflow.log_figure for the picture, each with "
                "that artifact file name.",
            )
        folder = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, dst_path=tmp))
        logged = json.loads((folder / "confusion_matrix.json").read_text())
        expect(
            isinstance(logged, dict) and logged.get("classes") == list(CLASSES),
            "confusion_matrix.json should hold a key 'classes' with the class names in order.",
        )
        expect(
            logged.get("matrix") == matrix.tolist(),
            "the 'matrix' in confusion_matrix.json is not the matrix given (checked on a new "
            "random one).",
            "a tensor becomes JSON with .tolist().",
        )
        expect(
            (folder / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n",
            "confusion_matrix.png is not a PNG image.",
            "reproml.plots.plot_confusion_matrix draws the figure for you.",
        )


@exercise("4.2", "query the best run with mlflow.search_runs", points=2)
def exercise_4_2(find_best_run: Any) -> None:
    import mlflow

    rng = random.Random()
    metric = rng.choice(["test_accuracy", "test_macro_f1"])
    experiment = f"check-4-2-{rng.randrange(10**6)}"
    with _scratch_store():
        mlflow.set_experiment(experiment)
        values = {}
        for _ in range(rng.randint(4, 8)):
            with mlflow.start_run() as run:
                values[run.info.run_id] = value = round(rng.uniform(0.5, 0.9), 4)
                mlflow.log_metric(metric, value)
        with mlflow.start_run():  # a run that crashed before it logged anything
            pass
        with mlflow.start_run() as failed:  # best number, but it failed: must not count
            mlflow.log_metric(metric, 0.99)
        mlflow.MlflowClient().set_terminated(failed.info.run_id, "FAILED")
        mlflow.set_experiment("Default")  # the function must find the experiment by name
        best = max(values, key=values.get)
        found = call(
            find_best_run, experiment, metric, what=f"find_best_run({experiment!r}, {metric!r})"
        )
        if found == best:
            return
        expect(
            isinstance(found, str),
            f"find_best_run should return a run id (a str), got {type(found).__name__}.",
            "the run id is in the column 'run_id' of the table search_runs returns.",
        )
        expect(
            found != failed.info.run_id,
            "find_best_run returned a run that FAILED.",
            "keep only finished runs: filter_string=\"attributes.status = 'FINISHED'\".",
        )
        raise CheckFailed(
            f"find_best_run returned {found!r}, which is not the finished run with the highest "
            f"{metric} (checked on a new store with {len(values)} runs).",
            f"search the experiment by name and sort with order_by=['metrics.{metric} DESC'].",
        )
