"""``reproml-search``: workers started by Hydra's joblib launcher and by submitit's local
executor join one study; every trial is an MLflow child run of its worker's parent run."""

from __future__ import annotations

import subprocess
import sys

import mlflow
import optuna
import pytest


def search(tmp_path, synthetic, mlflow_uri, *args: str) -> subprocess.CompletedProcess:
    flags = [a for a in args if a.startswith("-")]  # Hydra's flags come before the overrides
    args = tuple(a for a in args if not a.startswith("-"))
    return subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.search", *flags, f"data.root={synthetic.root}",
         "data.download=false", "experiment=quick", "trainer.progress=false",
         "trainer.device=cpu", f"tracking.uri={mlflow_uri}", "search.trials=2",
         f"search.storage=sqlite:///{tmp_path / 'optuna.db'}", f"hydra.run.dir={tmp_path}/run",
         f"hydra.sweep.dir={tmp_path}/multirun", *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip


def trials_and_runs(tmp_path, mlflow_uri):
    study = optuna.load_study(study_name="fashion-mnist", storage=f"sqlite:///{tmp_path}/optuna.db")
    runs = mlflow.MlflowClient(mlflow_uri).search_runs(
        [mlflow.MlflowClient(mlflow_uri).get_experiment_by_name("search").experiment_id]
    )
    return study.trials, runs


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_two_workers_share_one_study(tmp_path, synthetic, mlflow_uri, launcher):
    done = search(tmp_path, synthetic, mlflow_uri, "-m", "search.worker=0,1",
                  f"hydra/launcher={launcher}")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    trials, runs = trials_and_runs(tmp_path, mlflow_uri)
    assert len(trials) == 4 and {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    parents = {r.info.run_id for r in runs if r.info.run_name.startswith("fashion-mnist worker")}
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") in parents]
    assert len(parents) == 2 and len(children) == 4
    names = sorted(r.info.run_name for r in children)
    assert names == [f"fashion-mnist-trial-{n}" for n in range(4)]
    assert {r.info.status for r in children} <= {"FINISHED", "KILLED"}


@pytest.mark.slow
def test_a_bad_space_is_one_line(tmp_path, synthetic, mlflow_uri):
    done = search(tmp_path, synthetic, mlflow_uri, "+search.space.seed=3")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: search.space.seed should be a list of choices or {low, high, log}, got 3."
    )
