"""Chapter 05: a papermill sweep, one executed notebook per parameter set, each in MLflow.

For each parameter set the sweep creates an MLflow run, executes the experiment notebook with
the parameters and that run's id (the notebook trains and logs into it), then attaches the
executed notebook to the run, also when it failed: the failing run's notebook shows where.
A failing parameter set is reported and the sweep goes on.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last key changing fastest."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


@dataclass(frozen=True)
class SweepRun:
    parameters: dict[str, Any]
    notebook: Path  # the executed copy
    run_id: str
    error: str | None = None  # None when the notebook ran to the end

    @property
    def ok(self) -> bool:
        return self.error is None


def run_notebook_sweep(
    notebook: str | Path,
    parameter_sets: Sequence[Mapping[str, Any]],
    output_dir: str | Path,
    *,
    experiment: str = "sweeps",
    tracking_uri: str | None = None,
    progress: bool = True,
) -> list[SweepRun]:
    """Execute ``notebook`` once per parameter set; see the module docstring."""
    import papermill
    from mlflow import MlflowClient
    from tqdm.auto import tqdm

    from reproml.notebook import QUIET_KERNEL
    from reproml.tracking.stores import check_tracking_uri, default_tracking_uri, experiment_id

    uri = tracking_uri or default_tracking_uri()
    check_tracking_uri(uri)  # before the first kernel starts
    client = MlflowClient(uri)
    experiment_key = experiment_id(uri, experiment)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for number, parameters in enumerate(tqdm(parameter_sets, desc="sweep", disable=not progress)):
        name = "-".join(f"{k}={v}" for k, v in parameters.items()) or "defaults"
        run = client.create_run(
            experiment_key, run_name=name, tags={"sweep_notebook": str(notebook)}
        )
        run_id = run.info.run_id
        executed = output_dir / f"{number:02d}-{name}.ipynb"
        error = None
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters={
                    **parameters,
                    "run_id": run_id,
                    "tracking_uri": uri,
                    "experiment": experiment,
                },
                cwd=str(Path(notebook).parent),
                progress_bar=False,
                extra_arguments=QUIET_KERNEL,
            )
        except papermill.PapermillExecutionError as failure:
            error = f"{failure.ename}: {failure.evalue}".splitlines()[0]
        except BaseException:
            client.set_terminated(run_id, "KILLED")
            raise
        if executed.is_file():
            client.log_artifact(run_id, str(executed), "notebook")
        if error is not None and client.get_run(run_id).info.status == "RUNNING":
            client.set_terminated(run_id, "FAILED")
        runs.append(SweepRun(dict(parameters), executed, run_id, error))
    return runs


def sweep_table(runs: Sequence[SweepRun], tracking_uri: str | None = None):
    """The sweep as a pandas DataFrame: parameters, status, test metrics, error."""
    import pandas as pd
    from mlflow import MlflowClient

    from reproml.tracking.stores import default_tracking_uri

    client = MlflowClient(tracking_uri or default_tracking_uri())
    rows = []
    for run in runs:
        info = client.get_run(run.run_id)
        metrics = {k: v for k, v in info.data.metrics.items() if k.startswith("test_")}
        rows.append(
            {**run.parameters, "status": info.info.status, **metrics, "error": run.error or ""}
        )
    return pd.DataFrame(rows)
