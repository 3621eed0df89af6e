"""Chapter 05's check of the tracked sweep (5.3): one parent run, a child per set, a failure
kept."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.checks.ch05_papermill import _small_notebook, _tags
from reproml.checks.stores import scratch_store

SWEEP_NOTEBOOK = """\
import mlflow

if tracking_uri:
    mlflow.set_tracking_uri(tracking_uri)
with mlflow.start_run(run_id=run_id):
    if x < 0:
        raise ValueError(f"x must not be negative, got {x}")
    mlflow.log_param("x", x)
    mlflow.log_metric("y", 2 * x)
"""


def _sweep_notebook(path: Path) -> None:
    _small_notebook(path, "x = 1.0\nrun_id = None\ntracking_uri = None", SWEEP_NOTEBOOK)


@exercise("5.3", "a tracked sweep that survives a failure", points=2)
def exercise_5_3(run_sweep: Any) -> None:
    """mlflow.start_run(nested=True) opens a child inside an active run; a run's id is
    run.info.run_id, the store's address mlflow.get_tracking_uri();
    papermill.execute_notebook(input, output, parameters=...) raises
    papermill.PapermillExecutionError; mlflow.log_artifact(path, artifact_path);
    mlflow.end_run(status) ends the active run with the status you give."""
    import mlflow

    rng = random.Random()
    xs = rng.sample([0.5, 1.5, 2.0, 3.25, 4.0, 7.5], rng.randint(2, 3))
    failing = rng.randrange(len(xs))  # never after the last: the sweep must go on
    sets = [{"x": x} for x in xs]
    sets.insert(failing, {"x": -1.0})
    with scratch_store("check-5.3") as tmp:
        uri = mlflow.get_tracking_uri()
        notebook, output_dir = tmp / "step.ipynb", tmp / "executed"
        _sweep_notebook(notebook)
        try:
            parent_id = call(run_sweep, notebook, sets, output_dir, what="run_sweep(...)")
        except CheckFailed as failure:
            if "PapermillExecutionError" in failure.problem:
                raise CheckFailed(
                    f"your sweep stopped at the failing parameter set {sets[failing]}.",
                    "catch papermill's execution error, record it, go on with the next set.",
                ) from None
            raise
        expect(
            mlflow.get_tracking_uri() == uri,
            "run_sweep changed the notebook's tracking URI.",
            "the runs go to the store that is already set; pass its URI on to the notebook.",
        )
        expect(mlflow.active_run() is None, "a run is still active after run_sweep returned.")
        _check_sweep_runs(uri, parent_id, sets, failing)
        executed = sorted(Path(output_dir).glob("*.ipynb")) if Path(output_dir).is_dir() else []
        expect(
            len(executed) == len(sets),
            f"{output_dir} holds {len(executed)} executed notebooks for {len(sets)} parameter "
            "sets.",
            "one output file per parameter set, each under its own name.",
        )


def _check_sweep_runs(uri: str, parent_id: Any, sets: list[dict], failing: int) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("check-5.3").experiment_id])
    by_id = {r.info.run_id: r for r in runs}
    expect(
        isinstance(parent_id, str) and parent_id in by_id,
        f"run_sweep returned {parent_id!r}, not the id of the sweep's parent run.",
        "return parent.info.run_id.",
    )
    parent = by_id[parent_id]
    expect(
        "mlflow.parentRunId" not in parent.data.tags,
        f"run_sweep returned {parent_id!r}, the id of a child run, not of the sweep's parent.",
        "return the id of the run that holds the others.",
    )
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
    loose = [r for r in runs if r.info.run_id != parent_id and r not in children]
    expect(
        not loose,
        f"{len(loose)} runs are not children of the sweep's run.",
        "start each parameter set's run inside the parent's `with` block, with nested=True, "
        "and have the notebook log into that run (its id is a parameter).",
    )
    expect(
        len(children) == len(sets),
        f"the sweep's run has {len(children)} child runs for {len(sets)} parameter sets.",
    )
    expect(
        parent.info.status == "FINISHED",
        f"the sweep's parent run ended {parent.info.status}.",
        "one failing parameter set is part of a finished sweep.",
    )
    logged = sorted(float(r.data.params["x"]) for r in children if "x" in r.data.params)
    good = sorted(s["x"] for i, s in enumerate(sets) if i != failing)
    expect(
        logged == good,
        f"the notebooks logged x={logged} into the child runs, for parameter sets x={good}.",
        "pass each child run's id and the tracking URI to the notebook as parameters: it "
        "logs into the run it is given.",
    )
    for child in children:
        x = child.data.params.get("x")
        name = f"the child run of x={x}" if x else "the failing parameter set's child run"
        want = "FINISHED" if x else "FAILED"
        expect(
            child.info.status == want,
            f"{name} ended {child.info.status}, not {want}.",
            "a `with` block ends its run FINISHED when no exception leaves it: mark the run of "
            "a caught failure FAILED yourself.",
        )
        _check_child_notebook(client, child, name)


def _check_child_notebook(client, child, name: str) -> None:
    import nbformat

    paths = [a.path for a in client.list_artifacts(child.info.run_id, "notebook")]
    notebooks = [p for p in paths if p.endswith(".ipynb")]
    expect(
        len(notebooks) == 1,
        f"{name} holds {len(notebooks)} notebooks under `notebook/`, not its executed copy.",
        "log the executed notebook into each child run, failed ones included (they show where "
        "it failed), under the artifact path `notebook`.",
    )
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(child.info.run_id, notebooks[0], tmp)
        nb = nbformat.read(local, as_version=4)
    injected = "".join(c.source for c in nb.cells if "injected-parameters" in _tags(c))
    expect(
        child.info.run_id in injected,
        f"the notebook attached to {name} is not the one executed for it.",
        "write each parameter set's executed copy to a file of its own, and attach it to its "
        "own run.",
    )
