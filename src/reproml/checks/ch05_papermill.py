"""Chapter 05: a notebook made a program, run from the command line and swept.

5.1 reads the student's notebook (one code cell tagged ``parameters``, only default values in
it) and runs it with papermill on fresh values: the run it logs must have used them. 5.2 runs
the student's papermill command line on a small notebook of the check's own, with values of
every type; each must arrive with its type. 5.3 runs the student's sweep on a small notebook
that logs into the run it is given, one parameter set failing: one parent run, a child per
set holding its own executed notebook, the failing child FAILED and the sweep gone on.
"""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, exercise, expect
from reproml.checks.stores import scratch_store

# The defaults cell of chapter 05's report (a copy of experiment.ipynb): what papermill sets.
REPORT_PARAMETERS = ("model", "optimizer", "lr", "epochs", "seed", "quick", "run_id")


def _parameters_cells(nb) -> list:
    return [c for c in nb.cells if "parameters" in _tags(c)]


def _tags(cell) -> list:
    tags = cell.metadata.get("tags", [])
    return list(tags) if isinstance(tags, list | tuple) else []


def _read_notebook(path: Any):
    import nbformat

    path = Path(str(path))
    expect(path.is_file(), f"there is no notebook at {path}.", "pass the path of report.ipynb.")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:
        raise CheckFailed(f"{path.name} is not a notebook nbformat can read ({error}).") from None


@exercise("5.1", "make a notebook parameterizable", points=1)
def exercise_5_1(notebook: Any) -> None:
    """nbformat.read, cell.metadata.setdefault('tags', []).append('parameters'), nbformat.write; or
    in JupyterLab: the cell's Property Inspector (the gear icon), 'Add Tag', then save.
    papermill.inspect_notebook(path) shows what papermill found."""
    nb = _read_notebook(notebook)
    tagged = _parameters_cells(nb)
    if not tagged:
        near = {t for c in nb.cells for t in _tags(c) if t.strip().lower().startswith("param")}
        if near:
            raise CheckFailed(
                f"a cell is tagged {sorted(near)[0]!r}: papermill looks for exactly `parameters`.",
                "tags are case-sensitive, and the word is plural.",
            )
        expect(
            "parameters" not in json.dumps(nb.metadata.get("tags", [])),
            "the tag is on the notebook's metadata, not on a cell.",
            "papermill reads the tags of each cell.",
        )
        raise CheckFailed(
            "no cell of the saved notebook is tagged `parameters`.",
            "tag the cell that holds the defaults, then save the file: the check reads the "
            "file, not what your screen shows.",
        )
    expect(
        len(tagged) == 1,
        f"{len(tagged)} cells are tagged `parameters`: papermill injects its values after the "
        "first only.",
        "keep one cell of defaults and tag only that one.",
    )
    (cell,) = tagged
    expect(cell.cell_type == "code", "the tagged cell is a markdown cell.", "tag a code cell.")
    assigned = _default_values(cell.source)
    missing = [name for name in REPORT_PARAMETERS if name not in assigned]
    expect(
        not missing,
        f"the tagged cell does not set {', '.join(missing)}: a parameter papermill may set "
        "needs its default in the tagged cell.",
        "tag the cell where the notebook's defaults are, without changing it.",
    )
    _run_with_fresh_values(Path(str(notebook)))


def _default_values(source: str) -> set[str]:
    """The names a parameters cell sets; anything but ``name = literal`` fails the check."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise CheckFailed(f"the tagged cell is not valid Python ({error.msg}).") from None
    names = set()
    for statement in tree.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
            if isinstance(statement, ast.AnnAssign) and statement.value is not None
            else None
        )
        literal = targets is not None and _is_literal(statement.value)
        expect(
            literal and all(isinstance(t, ast.Name) for t in targets),
            f"the tagged cell does more than set default values (line {statement.lineno}: "
            f"{ast.get_source_segment(source, statement)!r}).",
            "the parameters cell holds only `name = value` lines; papermill adds a cell after "
            "it, so everything that uses the values must come later.",
        )
        names.update(t.id for t in targets)
    return names


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False
    return True


def _run_with_fresh_values(notebook: Path) -> None:
    import mlflow
    import papermill

    from reproml.notebook import QUIET_KERNEL

    rng = random.Random()
    fresh = {
        "model": "logreg",
        "lr": rng.choice([0.2, 0.07, 0.03, 0.015]),
        "seed": rng.randint(1, 9999),
        "epochs": 1,
        "quick": True,
    }
    with scratch_store("check-5.1") as tmp:
        uri = mlflow.get_tracking_uri()
        try:
            papermill.execute_notebook(
                str(notebook),
                str(tmp / "executed.ipynb"),
                parameters={**fresh, "experiment": "check-5.1", "tracking_uri": uri},
                cwd=str(notebook.parent),
                progress_bar=False,
                kernel_name="python3",
                extra_arguments=QUIET_KERNEL,
            )
        except papermill.PapermillExecutionError as failure:
            raise CheckFailed(
                f"run with papermill and {fresh}, the notebook failed: {failure.ename}: "
                f"{str(failure.evalue).splitlines()[0] if failure.evalue else ''}",
                "open the executed copy to see which cell failed; change only the tags.",
            ) from None
        runs = mlflow.search_runs(experiment_names=["check-5.1"], output_format="list")
        expect(len(runs) == 1, f"run with papermill, the notebook logged {len(runs)} runs, not 1.")
        params = runs[0].data.params
        used = {"lr": params.get("optimizer.lr"), "seed": params.get("seed")}
        wanted = {"lr": str(fresh["lr"]), "seed": str(fresh["seed"])}
        expect(
            used == wanted,
            f"papermill passed lr={fresh['lr']} and seed={fresh['seed']}, but the run trained "
            f"with lr={used['lr']} and seed={used['seed']}.",
            "papermill's values go in a cell right after the tagged one: the defaults must be "
            "in the tagged cell, not set again later.",
        )


def _small_notebook(path: Path, defaults: str, body: str) -> None:
    """A notebook of the check's own: a ``parameters`` cell, then ``body``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from reproml.course.notebooks import KERNELSPEC

    parameters = new_code_cell(defaults)
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[parameters, new_code_cell(body)])
    nb.metadata["kernelspec"] = KERNELSPEC  # the course's own notebooks' kernel
    nbformat.write(nb, str(path))
