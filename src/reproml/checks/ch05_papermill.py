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
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
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


@exercise(
    "5.1",
    "make a notebook parameterizable",
    points=1,
    hint="nbformat.read, cell.metadata.setdefault('tags', []).append('parameters'), "
    "nbformat.write; or in JupyterLab: the cell's Property Inspector (the gear icon), "
    "'Add Tag', then save. papermill.inspect_notebook(path) shows what papermill found.",
)
def exercise_5_1(notebook: Any) -> None:
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


def _values_notebook(path: Path, record: Path) -> None:
    """Writes each parameter's value and type to ``record``, as JSON."""
    write = (
        "import json\n"
        f"values = {{'name': name, 'count': count, 'rate': rate, 'flag': flag, 'label': label}}\n"
        f"open({str(record)!r}, 'w').write(json.dumps({{k: [v, type(v).__name__] "
        "for k, v in values.items()}))"
    )
    _small_notebook(path, 'name = "x"\ncount = 0\nrate = 0.0\nflag = False\nlabel = "none"', write)


@exercise(
    "5.2",
    "the papermill command line",
    points=1,
    hint="papermill INPUT OUTPUT -p NAME VALUE (-p converts values that look like numbers or "
    "True/False/None), -r NAME VALUE (kept as text), or -y with YAML; each word of the command "
    "is one item of the list (subprocess.run's form), str() the values.",
)
def exercise_5_2(papermill_command: Any) -> None:
    rng = random.Random()
    values = {
        "name": rng.choice(["mlp", "cnn", "logreg"]),
        "count": rng.randint(2, 500),
        "rate": rng.choice([0.5, 0.03, 0.001, 2.5]),
        "flag": True,
        "label": str(rng.randint(1990, 2030)),  # text that looks like a number
    }
    values = dict(rng.sample(list(values.items()), len(values)))
    with tempfile.TemporaryDirectory() as tmp:
        source, output, record = Path(tmp, "in.ipynb"), Path(tmp, "out.ipynb"), Path(tmp, "v.json")
        _values_notebook(source, record)
        from reproml.course.notebooks import kernel_environment

        command = call(papermill_command, source, output, values, what="papermill_command(...)")
        expect(
            isinstance(command, list | tuple) and all(isinstance(w, str) for w in command),
            f"papermill_command returned {type(command).__name__}, not a list of strings.",
            "one item per word, as subprocess.run takes it; str() each value.",
        )
        expect(
            bool(command) and Path(command[0]).name.startswith(("papermill", "python")),
            f"the command starts with {command[:1]}, not with papermill.",
        )
        env = kernel_environment(quick=True)  # this Python's papermill first on the PATH
        try:
            done = subprocess.run(
                list(command), cwd=tmp, env=env, capture_output=True, text=True, timeout=180
            )
        except FileNotFoundError:
            raise CheckFailed(f"there is no program {command[0]!r} to run.") from None
        except subprocess.TimeoutExpired:
            raise CheckFailed("the command ran for 3 minutes without ending.") from None
        last = (done.stderr.strip().splitlines() or [""])[-1]
        expect(
            done.returncode == 0,
            f"the command failed (exit {done.returncode}): {last}",
            "the input notebook, then the output notebook, then the parameters.",
        )
        expect(output.is_file(), "the command wrote no output notebook where it was asked to.")
        expect(record.is_file(), "the notebook did not run (it wrote nothing).")
        arrived = json.loads(record.read_text())
    for name, value in values.items():
        got, got_type = arrived[name]
        expect(
            got == value and got_type == type(value).__name__,
            f"`{name}` should arrive as {type(value).__name__} {value!r}, it arrived as "
            f"{got_type} {got!r}.",
            "-p turns text that looks like a number into a number; -r keeps it as text."
            if name == "label"
            else "give each parameter its own -p NAME VALUE.",
        )


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


@exercise(
    "5.3",
    "a tracked sweep that survives a failure",
    points=2,
    hint="mlflow.start_run(nested=True) opens a child inside an active run; a run's id is "
    "run.info.run_id, the store's address mlflow.get_tracking_uri(); "
    "papermill.execute_notebook(input, output, parameters=...) raises "
    "papermill.PapermillExecutionError; mlflow.log_artifact(path, artifact_path); "
    "mlflow.end_run(status) ends the active run with the status you give.",
)
def exercise_5_3(run_sweep: Any) -> None:
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
