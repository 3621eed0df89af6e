"""Chapter 05: a notebook made a program, run from the command line and swept.

5.1 reads the report the student's ``tag_defaults`` tagged (one code cell tagged ``parameters``,
only default values in it, not the Colab install cell the student notebooks start with), gives
the function copies of the report laid out otherwise (only their defaults cell may get the tag),
and runs the report once with papermill, every value unlike its default: the run it logs, into
the run and the store the check passes, must have used them all. 5.2 runs the student's
papermill command line on a small notebook of the check's own, with values of every kind; each
must arrive with its type. 5.3 runs the student's sweep on a small notebook that logs into the
run it is given, the first and last parameter sets failing: one parent run, a child per set
holding its own executed notebook, the failing children FAILED and the sweep gone on.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.stores import scratch_store

# The defaults cell of chapter 05's report (a copy of experiment.ipynb): what papermill sets.
REPORT_PARAMETERS = (
    "model", "optimizer", "lr", "epochs", "seed", "quick", "experiment", "run_id", "tracking_uri",
)  # fmt: skip
COLAB_TAG = "colab"  # the build's tag on the Colab install cell of each student notebook


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


# One papermill execution: a kernel, the course imported, two epochs in quick mode (about
# 15 s alone, 35 s on 2 busy cores).
@exercise("5.1", "make a notebook parameterizable", points=1, budget=300)
def exercise_5_1(tag_defaults: Any, notebook: Any) -> None:
    """nbformat.read, cell.metadata.setdefault('tags', []).append('parameters'), nbformat.write; or
    in JupyterLab: the cell's Property Inspector (the gear icon), 'Add Tag', then save.
    papermill.inspect_notebook(path) shows what papermill found."""
    expect(
        callable(tag_defaults),
        f"checks.exercise_5_1 was given {type(tag_defaults).__name__} where your function goes.",
        "call it as checks.exercise_5_1(tag_defaults, report): your function, then the report.",
    )
    nb = _read_notebook(notebook)
    tagged = _parameters_cells(nb)
    if not tagged:
        _no_tagged_cell(nb)
    expect(
        len(tagged) == 1,
        f"{len(tagged)} cells are tagged `parameters`: papermill injects its values after the "
        "first only.",
        "keep one cell of defaults and tag only that one.",
    )
    (cell,) = tagged
    expect(cell.cell_type == "code", "the tagged cell is a markdown cell.", "tag a code cell.")
    expect(
        COLAB_TAG not in _tags(cell) and "google.colab" not in cell.source,
        "the tagged cell is the Colab install cell (it sets the course up on Google Colab), not "
        "the cell of defaults.",
        "find the cell by what it holds (the `name = value` lines of the defaults), not by its "
        "position: the student notebooks start with that install cell.",
    )
    assigned = _default_values(cell.source)
    missing = [name for name in REPORT_PARAMETERS if name not in assigned]
    expect(
        not missing,
        f"the tagged cell does not set {', '.join(missing)}: a parameter papermill may set "
        "needs its default in the tagged cell.",
        "tag the cell where the notebook's defaults are, without changing it.",
    )
    _check_other_layouts(tag_defaults, nb)
    _run_with_fresh_values(Path(str(notebook)))


def _check_other_layouts(tag_defaults: Any, report) -> None:
    """The student's function on copies of the report, untagged, laid out otherwise: with the
    student notebooks' Colab install cell or without it, and with two cells added before the
    defaults. It must tag the defaults cell, and change nothing else: a tagging by position
    (``cells[1]``) or a copy of the course's own tagged notebook fails here."""
    import tempfile

    import nbformat

    base = nbformat.from_dict(json.loads(json.dumps(report)))
    for cell in base.cells:
        tags = [t for t in _tags(cell) if t != "parameters"]
        cell.metadata.pop("tags", None)
        if tags:
            cell.metadata["tags"] = tags
    colab = [i for i, c in enumerate(base.cells) if _is_colab(c)]
    layouts = {"the report's own layout": base}
    other = nbformat.from_dict(json.loads(json.dumps(base)))
    if colab:
        other.cells = [c for i, c in enumerate(other.cells) if i not in colab]
        layouts["no Colab install cell"] = other
    else:
        first = next(i for i, c in enumerate(other.cells) if c.cell_type == "code")
        other.cells.insert(first, _colab_like_cell())
        layouts["the Colab install cell of the student notebooks"] = other
    added = nbformat.from_dict(json.loads(json.dumps(base)))
    where = _defaults_index(added)
    added.cells[where:where] = [
        nbformat.v4.new_markdown_cell("## What this run uses"),
        nbformat.v4.new_code_cell("import math  # added by the check"),
    ]
    layouts["two cells added before the defaults"] = added
    with tempfile.TemporaryDirectory(prefix="check-5.1-") as tmp:
        for number, (layout, nb) in enumerate(layouts.items()):
            path = Path(tmp) / f"report-{number}.ipynb"
            nbformat.write(nb, str(path))
            call(tag_defaults, path, what=f"tag_defaults(<a copy of the report: {layout}>)")
            _expect_only_the_defaults_tagged(nb, _read_notebook(path), layout)


def _expect_only_the_defaults_tagged(before, after, layout: str) -> None:
    shown = f"on a copy of the report with {layout}, tag_defaults"
    same = len(before.cells) == len(after.cells) and all(
        (a.cell_type, a.source) == (b.cell_type, b.source)
        for a, b in zip(before.cells, after.cells, strict=True)
    )
    expect(
        same,
        f"{shown} changed the notebook's cells, not only a tag: {len(before.cells)} cells "
        f"given, {len(after.cells)} saved"
        + ("." if len(before.cells) != len(after.cells) else ", some of them with other code."),
        "read the notebook at the path given, tag one of its cells, write it back to that path.",
    )
    tagged = [i for i, c in enumerate(after.cells) if "parameters" in _tags(c)]
    expect(
        bool(tagged),
        f"{shown} saved no cell tagged `parameters`.",
        "tag the cell, then write the notebook back to the path given.",
    )
    wanted = _defaults_index(before)
    first_line = after.cells[tagged[0]].source.strip().splitlines()[:1] or [""]
    expect(
        tagged == [wanted],
        f"{shown} tagged "
        + (f"{len(tagged)} cells" if len(tagged) > 1 else f"the cell {first_line[0]!r}")
        + f", not the defaults cell (cell {wanted}).",
        "find the cell by what it holds (the `name = value` lines of the defaults), not by its "
        "position: another notebook, or the same one with a cell added, has it elsewhere.",
    )


def _defaults_index(nb) -> int:
    """The first code cell that sets every parameter of the report (as its defaults)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not _is_colab(cell):
            with contextlib.suppress(CheckFailed):
                if set(REPORT_PARAMETERS) <= _default_values(cell.source):
                    return index
    raise CheckFailed(
        "the report has no cell of defaults any more (`model = ...`, `lr = ...`).",
        "tag the defaults cell without changing it; to start again, rerun the cell that "
        "writes a fresh copy of the report.",
    )


def _is_colab(cell) -> bool:
    return COLAB_TAG in _tags(cell) or "google.colab" in cell.source


def _colab_like_cell():
    import nbformat

    cell = nbformat.v4.new_code_cell(
        "# On Google Colab: fetch the course, install it and get the data.\n"
        "# Anywhere else this cell does nothing.\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        '    print("Colab")'
    )
    cell.metadata["tags"] = [COLAB_TAG]
    return cell


def _no_tagged_cell(nb) -> None:
    near = {t for c in nb.cells for t in _tags(c) if t.strip().lower().startswith("param")}
    if near:
        raise CheckFailed(
            f"a cell is tagged {sorted(near)[0]!r}: papermill looks for exactly `parameters`.",
            "tags are case-sensitive, and the word is plural.",
        )
    as_text = [c for c in nb.cells if isinstance(c.metadata.get("tags"), str)]
    expect(
        not as_text,
        "a cell's `tags` is a text, not a list: no tool reads it as a tag "
        "(and the file is no longer a valid notebook).",
        "a cell's tags are a list of texts, even when there is one.",
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


def _small_notebook(path: Path, defaults: str, body: str) -> None:
    """A notebook of the check's own: a ``parameters`` cell, then ``body``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from reproml_course.base.notebooks import KERNELSPEC

    parameters = new_code_cell(defaults)
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[parameters, new_code_cell(body)])
    nb.metadata["kernelspec"] = KERNELSPEC  # the course's own notebooks' kernel
    nbformat.write(nb, str(path))
