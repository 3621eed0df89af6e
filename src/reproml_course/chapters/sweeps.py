"""Chapter 05: notebooks as programs. A sweep is one MLflow parent run with a child run per
parameter set, each child holding its executed notebook; this module makes the chapter's
untagged notebook and reads a sweep back. The sweep itself is the student's code.

Light on purpose (nbformat, MLflow's client, pandas): no torch.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag on a nested run


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last key changing fastest."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def write_untagged_copy(notebook: str | Path, target: str | Path) -> Path:
    """A copy of ``notebook`` without any ``parameters`` tag and without outputs: a notebook
    as a colleague would hand it over, for the student to make parameterizable."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        tags = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))
    return target


def sweep_table(parent_run_id: str, tracking_uri: str | None = None):
    """The child runs of a sweep as a pandas DataFrame, in the order they started: their
    parameters (as the notebook logged them, else as the sweep did), status, validation and
    test metrics, and the executed notebook each holds."""
    import pandas as pd
    from mlflow import MlflowClient

    from reproml.tracking.stores import default_tracking_uri

    client = MlflowClient(tracking_uri or default_tracking_uri())
    parent = client.get_run(parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{parent_run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=10_000,
    )
    rows = []
    for child in children:
        notebooks = [a.path for a in client.list_artifacts(child.info.run_id, "notebook")]
        metrics = {
            k: v
            for k, v in child.data.metrics.items()
            if k.startswith(("val_", "test_")) and k != "test_loss"
        }
        params = child.data.params
        rows.append(
            {
                "run": child.info.run_name,
                # The notebook's record, else the values the sweep logged before running it.
                "model": params.get("model.name", params.get("model", "")),
                "lr": float(params.get("optimizer.lr", params.get("lr", "nan"))),
                "status": child.info.status,
                **metrics,
                "notebook": ", ".join(notebooks),
            }
        )
    return pd.DataFrame(rows)
