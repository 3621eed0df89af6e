"""What exercise 5.3's sweep must leave in the store: one parent run in the check's
experiment, a child per parameter set, each holding what it logged and its own executed
notebook, the two failing children FAILED (the one that failed inside the notebook's run
included) and the two between FINISHED."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from reproml_course.checks.base import expect

EXPERIMENT = "check-5.3"


def _check_sweep_runs(
    uri: str, parent_id: Any, sets: list[dict], failing: set[int], notebook: Path
) -> dict:
    """The parent and its children; returns {child run id: index of its parameter set}."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(experiments, run_view_type=ViewType.ALL, max_results=1000)
    by_id = {r.info.run_id: r for r in runs}
    expect(
        isinstance(parent_id, str) and parent_id in by_id,
        f"run_sweep returned {parent_id!r}, not the id of the sweep's parent run.",
        "return the parent run's id (its info.run_id).",
    )
    parent = by_id[parent_id]
    expect(
        "mlflow.parentRunId" not in parent.data.tags,
        f"run_sweep returned {parent_id!r}, the id of a child run, not of the sweep's parent.",
        "return the id of the run that holds the others.",
    )
    expected_experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    expect(
        parent.info.experiment_id == expected_experiment,
        "the sweep's runs are not in the notebook's active experiment.",
        "start the parent run where the notebook's runs go, without choosing an experiment.",
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
        "one child run per parameter set, the failing ones included.",
    )
    deleted = [r for r in (parent, *children) if r.info.lifecycle_stage != "active"]
    expect(not deleted, "the sweep deleted some of its runs.", "keep every run, failed or not.")
    expect(
        parent.info.status == "FINISHED",
        f"the sweep's parent run ended {parent.info.status}"
        + (" (never ended)." if parent.info.status == "RUNNING" else "."),
        "failing parameter sets are part of a finished sweep: the parent ends FINISHED.",
    )
    owner = {}
    for child in children:
        index = _check_child_notebook(client, child, sets, uri, notebook)
        expect(
            index not in owner.values(),
            f"two child runs hold the notebook of the parameter set {sets[index]}.",
            "one child run per parameter set, each holding its own executed notebook.",
        )
        owner[child.info.run_id] = index
        _check_child(child, sets[index], index in failing)
    return owner


def _check_child(child, parameters: dict, fails: bool) -> None:
    name = f"the child run of {parameters}"
    want = "FAILED" if fails else "FINISHED"
    status = child.info.status
    expect(
        status == want,
        f"{name} ended {status}, not {want}."
        if status != "RUNNING"
        else f"{name} is still RUNNING: it was never ended.",
        "a `with` block ends its run FINISHED when no exception leaves it: mark the run of a "
        "caught failure FAILED yourself."
        if want == "FAILED"
        else "end each child run with the status of its own execution, whatever happened to "
        "the sets before it.",
    )
    logged = child.data.params
    wanted = {"x": str(parameters["x"]), "label": parameters["label"]}
    found = {k: logged.get(k) for k in wanted}
    expect(
        found == wanted or not fails,
        f"{name} failed and its parameters say "
        + (f"{found}." if any(found.values()) else "nothing of what it tried."),
        "log the set's values as the child run's parameters before executing the notebook "
        "(mlflow.log_params): a run that fails early then still says what it tried.",
    )
    expect(
        found == wanted,
        f"{name} holds what the notebook logged for {found}.",
        "pass the set's values, its child run's id and the tracking URI to the notebook: it "
        "logs into the run it is given.",
    )


def _check_child_notebook(client, child, sets: list[dict], uri: str, notebook: Path) -> int:
    """The executed notebook attached to ``child`` (an execution of ``notebook``); returns the
    index of its parameter set."""
    import nbformat

    paths = [a.path for a in client.list_artifacts(child.info.run_id, "notebook")]
    notebooks = [p for p in paths if p.endswith(".ipynb")]
    expect(
        len(notebooks) == 1,
        f"a child run holds {len(notebooks)} notebooks under `notebook/`, not its executed copy.",
        "log the executed notebook into each child run, failed ones included (they show where "
        "it failed), under the artifact path `notebook`.",
    )
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(child.info.run_id, notebooks[0], tmp)
        nb = nbformat.read(local, as_version=4)
    ran = nb.metadata.get("papermill", {})
    passed = dict(ran.get("parameters", {}))
    expect(
        bool(ran.get("end_time")),
        "a child run holds a notebook papermill did not execute.",
        "attach the executed copy (papermill's output), after the execution.",
    )
    source = str(ran.get("input_path") or "")
    expect(
        bool(source) and Path(source).resolve() == notebook.resolve(),
        f"a child run holds an execution of {repr(Path(source).name) if source else 'a notebook'}"
        ", not of the notebook run_sweep was given.",
        "execute the notebook passed as run_sweep's first argument, whatever its name.",
    )
    expect(
        passed.pop("run_id", None) == child.info.run_id,
        "the notebook attached to a child run was not executed for that run.",
        "pass each child its own run id, write each execution to a file of its own, and attach "
        "it to its own run.",
    )
    expect(
        passed.pop("tracking_uri", None) == uri,
        "the notebook of a child run was not given the address of the store to log to "
        "(`tracking_uri`).",
        "pass the store the sweep logs to (this notebook's) on to the notebook, with the run id.",
    )
    matching = [i for i, s in enumerate(sets) if s == passed]
    expect(
        len(matching) == 1,
        f"a child run's notebook was executed with {passed}, not with one of the parameter sets.",
        "pass each set's values as they are, plus the run id and the tracking URI.",
    )
    return matching[0]
