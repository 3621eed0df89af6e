"""Chapter 05's check of the tracked sweep (5.3): one parent run, a child per set, the failures
kept.

The student's sweep runs once (each execution is a kernel: seconds) over four parameter sets
of a small notebook of the check's own, that logs into the run it is given: the first and the
last sets fail, the two between succeed. Of the two failures, one happens inside the
notebook's run (the kernel's MLflow then marks it FAILED, and the sweep's own ``with`` block
would turn it back to FINISHED), the other before the notebook touches its run (only the sweep
can mark that one). Everything the sweep leaves is read back: every run of the store and its
status, what each child logged, the executed notebook each holds, the files in the output
folder, the store and run left active. The output folder does not exist yet, nor the folder
above it; then the sweep runs again (no parameter set: no kernel) into that folder, which
now exists, as a notebook's cell run twice does.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch05_papermill import _small_notebook
from reproml_course.checks.ch05_sweep_runs import EXPERIMENT, _check_sweep_runs
from reproml_course.checks.stores import scratch_store

SWEEP_NOTEBOOK = """\
import mlflow

if tracking_uri:
    mlflow.set_tracking_uri(tracking_uri)
if x == 0:
    raise ValueError("x must not be zero")
with mlflow.start_run(run_id=run_id):
    if x < 0:
        raise ValueError(f"x must not be negative, got {x}")
    mlflow.log_param("x", x)
    mlflow.log_param("label", label)
    mlflow.log_metric("y", 2 * x)
"""


def _sweep_notebook(path: Path) -> None:
    defaults = 'x = 1.0\nlabel = "default"\nrun_id = None\ntracking_uri = None'
    _small_notebook(path, defaults, SWEEP_NOTEBOOK)


def _parameter_sets(rng: random.Random) -> tuple[list[dict], set[int]]:
    """Four sets: a failure first and last (one of each kind, in a random order), two that
    succeed between them; the values are drawn."""
    good = rng.sample([0.5, 1.5, 2.0, 3.25, 4.0, 7.5], 2)
    labels = rng.sample(["alpha", "beta", "gamma", "delta", "omega"], 4)
    failures = [rng.choice([-1.0, -2.5, -0.25]), 0.0]
    rng.shuffle(failures)
    xs = [failures[0], *good, failures[1]]
    return [{"x": x, "label": label} for x, label in zip(xs, labels, strict=True)], {0, 3}


@exercise("5.3", "a tracked sweep that survives a failure", points=2, budget=300)  # 4 kernels
def exercise_5_3(run_sweep: Any) -> None:
    """mlflow.start_run(nested=True) opens a child inside an active run; a run's id is
    run.info.run_id, the store's address mlflow.get_tracking_uri(); mlflow.log_params(values)
    on the child before the execution;
    papermill.execute_notebook(input, output, parameters=...) raises
    papermill.PapermillExecutionError; mlflow.log_artifact(path, artifact_path);
    mlflow.end_run(status) ends the active run with the status you give."""
    import mlflow

    rng = random.Random()
    sets, failing = _parameter_sets(rng)
    with scratch_store(EXPERIMENT) as tmp:
        uri = mlflow.get_tracking_uri()
        # Neither the output folder nor the folder above it exists yet.
        notebook, output_dir = tmp / "step.ipynb", tmp / "sweeps" / "executed"
        _sweep_notebook(notebook)
        given = [dict(s) for s in sets]  # the student's code may change its own copy
        try:
            parent_id = call(run_sweep, notebook, given, output_dir, what="run_sweep(...)")
        except CheckFailed as failure:
            if "PapermillExecutionError" in failure.problem:
                raise CheckFailed(
                    f"your sweep stopped at the failing parameter set {sets[0]} (the first of "
                    f"{len(sets)}).",
                    "catch papermill's execution error, record it, go on with the next set.",
                ) from None
            if "FileNotFoundError" in failure.problem and not output_dir.is_dir():
                raise CheckFailed(
                    f"{failure.problem} (output_dir did not exist yet, nor the folder above it).",
                    "output_dir may be new, and so may the folders above it: create every "
                    "missing one before writing into it.",
                ) from None
            raise
        expect(
            mlflow.get_tracking_uri() == uri,
            "run_sweep changed the notebook's tracking URI.",
            "the runs go to the store that is already set; pass its URI on to the notebook.",
        )
        expect(
            mlflow.active_run() is None,
            "a run is still active after run_sweep returned.",
            "end every run you start; a `with` block does it for you.",
        )
        children = _check_sweep_runs(uri, parent_id, sets, failing, notebook)
        _check_output_folder(Path(output_dir), children, len(sets))
        _check_run_again(run_sweep, notebook, output_dir)


def _check_run_again(run_sweep: Any, notebook: Path, output_dir: Path) -> None:
    """The sweep run again into the same output folder (it exists now), with no parameter
    set: a cell run twice must not fail because its folder is already there."""
    import mlflow

    try:
        call(run_sweep, notebook, [], output_dir, what="run_sweep(notebook, [], output_dir)")
    except CheckFailed as failure:
        if "FileExistsError" in failure.problem:
            raise CheckFailed(
                "run_sweep fails when run again into the same output_dir (it exists after the "
                f"first sweep, as when a cell runs twice): {failure.problem}",
                "create output_dir only when it is missing: a folder already there is fine.",
            ) from None
        raise
    expect(
        mlflow.active_run() is None,
        "a run is still active after run_sweep returned (a sweep of no parameter set).",
        "end every run you start; a `with` block does it for you.",
    )


def _check_output_folder(output_dir: Path, children: dict, count: int) -> None:
    import nbformat

    executed = sorted(output_dir.glob("*.ipynb")) if output_dir.is_dir() else []
    expect(
        len(executed) == count,
        f"{output_dir.name}/ holds {len(executed)} executed notebooks for {count} parameter sets.",
        "one output file per parameter set, each under its own name, in output_dir.",
    )
    found = set()
    for path in executed:
        try:
            ran = nbformat.read(path, as_version=4).metadata.get("papermill", {})
        except Exception:
            ran = {}
        found.add(ran.get("parameters", {}).get("run_id"))
    expect(
        found == set(children),
        f"the notebooks in {output_dir.name}/ are not the executions of the sweep's child runs.",
        "each parameter set's executed copy stays in output_dir, under its own name.",
    )
