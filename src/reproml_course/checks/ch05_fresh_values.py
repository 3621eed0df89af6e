"""Exercise 5.1's run of the tagged report: one papermill execution with every value unlike
its default, logging into a run the check made beforehand, in a store of its own; the run must
hold every value, as the configuration that ran."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.stores import scratch_store

# What each value papermill passes becomes among the run's parameters (the configuration).
LOGGED_AS = {
    "model": "model.name",
    "optimizer": "optimizer.name",
    "lr": "optimizer.lr",
    "epochs": "trainer.epochs",
    "seed": "seed",
    "quick": "data.train_size",
}


def _run_with_fresh_values(notebook: Path) -> None:
    """One execution (a kernel and a short training) with every value unlike the defaults,
    logging into a run the check made beforehand, in a store of its own; the kernel's
    $MLFLOW_TRACKING_URI names another store, so the run only lands in the check's store when
    the `tracking_uri` papermill passes is in effect."""
    import mlflow
    import papermill

    from reproml_course.chapters.notebook import QUIET_KERNEL

    rng = random.Random()
    fresh = {
        "model": rng.choice(["logreg", "mlp"]),
        "optimizer": rng.choice(["sgd", "adamw"]),
        "lr": rng.choice([0.2, 0.07, 0.03, 0.015]),
        "seed": rng.randint(1, 9999),
        "epochs": 2,
        "quick": True,
    }
    with scratch_store("check-5.1") as tmp:
        uri = mlflow.get_tracking_uri()
        client = mlflow.MlflowClient(uri)
        experiment = client.get_experiment_by_name("check-5.1").experiment_id
        planned = client.create_run(experiment, run_name="check-5.1").info.run_id
        passed = {**fresh, "experiment": "check-5.1", "tracking_uri": uri, "run_id": planned}
        decoy = f"sqlite:///{tmp / 'elsewhere.db'}"  # where a lost tracking_uri would lead
        try:
            with _environment("MLFLOW_TRACKING_URI", decoy):
                papermill.execute_notebook(
                    str(notebook),
                    str(tmp / "executed.ipynb"),
                    parameters=passed,
                    cwd=str(notebook.parent),
                    progress_bar=False,
                    kernel_name="python3",
                    extra_arguments=QUIET_KERNEL,
                )
        except papermill.PapermillExecutionError as failure:
            _check_store_used(tmp)
            raise CheckFailed(
                f"run with papermill and {fresh}, the notebook failed: {failure.ename}: "
                f"{str(failure.evalue).splitlines()[0] if failure.evalue else ''}",
                "open the executed copy to see which cell failed; change only the tags.",
            ) from None
        _check_store_used(tmp)
        experiments = [e.experiment_id for e in client.search_experiments()]
        _check_logged_run(client.search_runs(experiments), planned, fresh)


def _check_store_used(tmp: Path) -> None:
    expect(
        not (tmp / "elsewhere.db").exists(),
        "run with papermill, the notebook logged to another store than the one papermill "
        "passed as `tracking_uri`.",
        "papermill's values go in a cell right after the tagged one: a default set again "
        "later (here `tracking_uri`) wins over them.",
    )


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``$name`` set to ``value`` for the kernels started meanwhile (they inherit it)."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _check_logged_run(runs: list, planned: str, fresh: dict) -> None:
    trained = [r for r in runs if r.data.params]
    expect(
        bool(trained),
        "run with papermill, the notebook logged nothing into the run and the store that "
        "papermill passed it.",
        "the notebook logs into the store and run its `tracking_uri` and `run_id` parameters "
        "name: if a later cell sets them again, papermill's values are lost and the run goes "
        "elsewhere.",
    )
    expect(
        len(trained) == 1,
        f"run with papermill, the notebook logged {len(trained)} runs, not 1.",
        "the report trains once: change only the tags, not the cells.",
    )
    (run,) = trained
    expect(
        run.info.run_id == planned,
        "run with papermill, the notebook logged into a new run, not into the run whose id "
        "papermill passed as `run_id`.",
        "papermill's values go in a cell right after the tagged one: a default set again "
        "later (here `run_id`) wins over them.",
    )
    expect(
        run.info.status == "FINISHED",
        f"run with papermill, the notebook's run ended {run.info.status}, not FINISHED.",
        "change only the tags: the report ends its run itself.",
    )
    params = run.data.params
    quick_size = "500"  # quick mode's data.train_size (conf/experiment/quick.yaml)
    wanted = {name: str(value) for name, value in fresh.items() if name != "quick"}
    used = {name: params.get(LOGGED_AS[name]) for name in wanted}
    lost = [name for name in wanted if used[name] != wanted[name]]
    if params.get(LOGGED_AS["quick"]) != quick_size:
        lost.append("quick")
    expect(
        not lost,
        f"papermill passed {', '.join(f'{n}={fresh[n]!r}' for n in lost)}, but the run "
        "trained with "
        + ", ".join(f"{n}={used[n]!r}" if n in used else f"{n} not in effect" for n in lost)
        + ".",
        "papermill's values go in a cell right after the tagged one: the defaults must be "
        "in the tagged cell, not set again later.",
    )
