"""Chapter 05's checks against what students really do.

5.1, tagging the report's defaults cell (the student notebook's report starts with the Colab
install cell, the solution's does not: both are tried):
- the first code cell tagged, which in the student notebook is the Colab install cell;
- the tag misspelt (a capital letter, singular), or given as a text instead of a list;
- the setup cell tagged; two cells tagged; the notebook's metadata tagged; a markdown cell;
- a new cell of its own with half the defaults;
- a default set again after the tagged cell: lr, model, or the store (`tracking_uri`, the
  run then logged elsewhere: "logged no run"), or `run_id`;
- the tagging never saved to the file;
- a tagging right on this report only: the defaults cell's index written in (`cells[1]`), or
  the course's own tagged notebook copied over the report (both passed an outside reviewer's
  try when the check read the report only: the check now also gives the function copies of
  the report laid out otherwise);
- the report passed where the function goes.

5.2, the papermill command (one execution with every kind of value at once):
- -p for every value (text that looks like a number arrives as one); -r for every value;
- -r only for text made of digits (text like 1.5, -3, None or True is converted);
- falsy values skipped (`if value:`): 0, 0.0, False, "", None, [];
- -y with JSON (1e-05 arrives as text, YAML 1.1); -p for lists (they arrive as text);
- the values quoted with shlex.quote (the quotes arrive);
- `name=value` or one string per option; no output notebook; `--prepare-only`;
- a string instead of a list; the values left as numbers in the list.
Correct variants: -r/-y/-p by type (the solution); one -y of yaml.safe_dump for everything.

5.3, the tracked sweep (the first and the last sets fail, one inside the notebook's run, one
before it):
- children not nested; the set's values not logged on its child before it runs; the run id, or
  the store, not passed to the notebook; stops at the first failure;
- failures marked FINISHED, or KILLED; the status not reset after a failure;
- the parent ended with the last set's status; the parent left RUNNING;
- executed notebooks of the successes only, or on the parent; one output file for all;
- the child's id returned; the set's values not passed; the failing child never ended;
- another notebook executed than the one given (a path written in the function);
- the output folder made without the folders above it (`mkdir(exist_ok=True)`), or made only
  when new (`mkdir(parents=True)`: the sweep run again into it fails).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import nbformat
import papermill
import pytest
from solution_cells import SOLUTIONS, code_cell, define, mutate

from reproml_course.chapters.sweeps import write_untagged_copy

STUDENT_NOTEBOOKS = SOLUTIONS.parent / "notebooks"
COMMAND = code_cell("05_papermill_sweeps.ipynb", "def papermill_command")
SWEEP = code_cell("05_papermill_sweeps.ipynb", "def run_sweep")
TAGGING = code_cell("05_papermill_sweeps.ipynb", "def tag_defaults")
TAGGING = TAGGING[: TAGGING.index("tag_defaults(report)")]  # the function, not its use


@pytest.fixture(params=["solution", "student"])
def report(request, tmp_path, hard_synthetic, monkeypatch) -> Path:
    """The report as each version of the chapter makes it: from solutions/experiment.ipynb, or
    from notebooks/experiment.ipynb, whose first code cell is the Colab install cell."""
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))
    folder = SOLUTIONS if request.param == "solution" else STUDENT_NOTEBOOKS
    return write_untagged_copy(folder / "experiment.ipynb", tmp_path / "report.ipynb")


def tagger(source: str = TAGGING):
    """The solution's ``tag_defaults`` (``source`` changed as a mistake would)."""
    return define(source, "tag_defaults")


def solution_tagging(report: Path, source: str = TAGGING) -> tuple:
    """The check's arguments after the cell ran: the function, and the report it tagged."""
    function = tagger(source)
    function(report)
    return function, report


def defaults_index(nb) -> int:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return next(i for i, c in enumerate(code) if c.source.startswith("model:"))


def tag(report: Path, *, cell: int | None = None, tags=("parameters",), edit=None) -> Path:
    """Tag the report's ``cell``-th code cell (its defaults cell by default); ``edit`` changes
    the notebook further, given it and the defaults cell's index among all cells."""
    nb = nbformat.read(report, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    target = code[defaults_index(nb) if cell is None else cell]
    target.metadata["tags"] = list(tags)
    if edit:
        edit(nb, nb.cells.index(code[defaults_index(nb)]))
    nbformat.write(nb, report)
    return report


def test_an_untagged_notebook_fails_5_1(evaluate, report):
    passed, said = evaluate("5.1", tagger(), report)
    assert not passed and "no cell of the saved notebook is tagged `parameters`" in said


def add_cell(source: str, after: int = 2):
    """A cell ``after`` cells after the defaults cell."""

    def edit(nb, defaults):
        nb.cells.insert(defaults + after, nbformat.v4.new_code_cell(source))

    return edit


def notebook_tag(nb, defaults):
    nb.metadata["tags"] = ["parameters"]


def tags_as_text(nb, defaults):
    nb.cells[defaults].metadata["tags"] = "parameters"


def tag_the_title(nb, defaults):
    markdown = next(c for c in nb.cells if c.cell_type == "markdown" and "# One" in c.source)
    markdown.metadata["tags"] = ["parameters"]


def second_tagged(nb, defaults):
    nb.cells[defaults + 2].metadata["tags"] = ["parameters"]


def half_the_defaults(nb, defaults):
    nb.cells.insert(defaults, _tagged("lr = 0.001\nseed = 42"))


TAGGING_MISTAKES = {
    "a capital letter": ({"tags": ["Parameters"]}, "papermill looks for exactly `parameters`"),
    "singular": ({"tags": ["parameter"]}, "papermill looks for exactly `parameters`"),
    "the tags as a text": ({"tags": [], "edit": tags_as_text}, "`tags` is a text, not a list"),
    "the setup cell": ({"cell": -4}, "does more than set default values"),
    "two cells": ({"edit": second_tagged}, "2 cells are tagged"),
    "the notebook, not a cell": ({"tags": [], "edit": notebook_tag}, "on the notebook's"),
    "a markdown cell": ({"tags": [], "edit": tag_the_title}, "markdown cell"),
    "a cell of its own with half the defaults": (
        {"tags": [], "edit": half_the_defaults}, "does not set model"),
}  # fmt: skip


def _tagged(source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


@pytest.mark.parametrize("mistake", TAGGING_MISTAKES)
def test_a_wrong_tag_fails_5_1(evaluate, report, mistake):
    how, message = TAGGING_MISTAKES[mistake]
    passed, said = evaluate("5.1", tagger(), tag(report, **how))
    assert not passed and message in said, said


def test_the_first_code_cell_of_the_student_notebook_fails_5_1(evaluate, tmp_path):
    """The student notebook's first code cell is the Colab install cell: the message says so."""
    report = write_untagged_copy(STUDENT_NOTEBOOKS / "experiment.ipynb", tmp_path / "r.ipynb")
    first = mutate(TAGGING, 'cell.cell_type == "code" and "model:" in cell.source',
                   'cell.cell_type == "code"')  # fmt: skip
    passed, said = evaluate("5.1", *solution_tagging(report, first))
    assert not passed and "the Colab install cell" in said, said
    assert "by what it holds" in said


def by_position(report: Path) -> str:
    """The solution's tagging with the defaults cell's index in ``report`` written in."""
    nb = nbformat.read(report, as_version=4)
    index = nb.cells.index([c for c in nb.cells if c.cell_type == "code"][defaults_index(nb)])
    return mutate(
        TAGGING,
        """next(
        cell for cell in notebook.cells if cell.cell_type == "code" and "model:" in cell.source
    )""",
        f"notebook.cells[{index}]",
    )


COPY_THE_ORIGINAL = f"""
import shutil
def tag_defaults(path):
    shutil.copyfile({str(SOLUTIONS / "experiment.ipynb")!r}, path)  # already tagged
"""


@pytest.mark.slow  # the report itself passes: the check then runs it with papermill
@pytest.mark.parametrize(
    ("make", "said"),
    [(by_position, "not the defaults cell"),
     (lambda report: COPY_THE_ORIGINAL, "changed the notebook's cells, not only a tag")],
    ids=["by position", "the course's tagged notebook copied"],
)  # fmt: skip
def test_a_tagging_right_only_on_this_report_fails_5_1(evaluate, report, make, said):
    """Right on the report it was written for, wrong on another layout of it (an outside
    reviewer's two answers that passed when the check read the report only)."""
    function = define(make(report), "tag_defaults")
    function(report)
    passed, message = evaluate("5.1", function, report)
    assert not passed and said in message, message


def test_the_report_instead_of_the_function_fails_5_1(evaluate, report):
    passed, said = evaluate("5.1", report, report)
    assert not passed and "checks.exercise_5_1(tag_defaults, report)" in said, said


def test_a_tagging_never_saved_fails_5_1(evaluate, report):
    unsaved = mutate(TAGGING, "    nbformat.write(notebook, path)\n", "")
    passed, said = evaluate("5.1", *solution_tagging(report, unsaved))
    assert not passed and "no cell of the saved notebook" in said, said


@pytest.mark.slow
def test_the_solution_passes_5_1_in_both_versions(evaluate, report):
    """The solution's own cell, on the solution's report and on the student notebook's."""
    assert evaluate("5.1", *solution_tagging(report)) == (True, "passed")


SET_AGAIN = {
    "lr": ("lr = 0.001", "but the run trained with lr='0.001'"),
    "model": ('model = "cnn"', "but the run trained with model='cnn'"),
    "the store": ("tracking_uri = None", "logged to another store"),
    "the run id": ("run_id = None", "logged into a new run"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", SET_AGAIN)
def test_a_default_set_again_later_fails_5_1(evaluate, report, name):
    """The tag is right, but a later cell sets a value again: papermill's value is lost."""
    source, message = SET_AGAIN[name]
    passed, said = evaluate("5.1", tagger(), tag(report, edit=add_cell(source)))
    assert not passed and message in said, said
    assert "Hint:" in said


def command(old: str = "", new: str = ""):
    """The solution's function (``old`` replaced by ``new``), without the cell's example."""
    import json
    import shlex

    code = mutate(COMMAND, old, new) if old else COMMAND
    code = code[: code.index("command = papermill_command(")]
    return define(code, "papermill_command", {"json": json, "shlex": shlex})


BY_TYPE = """        if isinstance(value, str):
            command += ["-r", name, value]  # kept as text, even "2024"
        elif isinstance(value, list | dict):
            command += ["-y", yaml.safe_dump({name: value})]  # YAML that PyYAML reads back
        else:
            command += ["-p", name, str(value)]  # numbers, True/False, None
"""


def by_type(new: str):
    return (BY_TYPE, new)


COMMAND_MISTAKES = {
    "-p for everything": (by_type('        command += ["-p", name, str(value)]\n'),
                          "-p turns text that looks like a number"),
    "-r for everything": (by_type('        command += ["-r", name, str(value)]\n'),
                          "-r keeps every value as text"),
    "-r only for digits": (("if isinstance(value, str):",
                            "if isinstance(value, str) and value.isdigit():"),
                           "-p turns text that looks like a number"),
    "falsy values skipped": (("    for name, value in parameters.items():\n",
                              "    for name, value in parameters.items():\n"
                              "        if not value:\n            continue\n"),
                             "values too"),
    "None values skipped": (("    for name, value in parameters.items():\n",
                             "    for name, value in parameters.items():\n"
                             "        if value is None:\n            continue\n"),
                            "it kept its default"),
    "-y with JSON": (by_type('        command += ["-y", json.dumps({name: value})]\n'),
                     "YAML 1.1"),
    "-y with JSON for lists": (("yaml.safe_dump({name: value})", "json.dumps({name: value})"),
                               "YAML 1.1"),
    "-p for lists": (("elif isinstance(value, list | dict):", "elif False:"),
                     "a list needs YAML"),
    "quoted values": (('command += ["-r", name, value]',
                       'command += ["-r", name, shlex.quote(value)]'), "no quotes"),
    "name=value": (('command += ["-p", name, str(value)]', 'command += ["-p", f"{name}={value}"]'),
                   "the command failed"),
    "one string per option": (('command += ["-p", name, str(value)]',
                               'command.append(f"-p {name} {value}")'), "the command failed"),
    "no output notebook": (('str(notebook), str(output)]', 'str(notebook)]'),
                           "wrote no output notebook"),
    "prepare only": (('str(output)]', 'str(output), "--prepare-only"]'),
                     "ran none of its cells"),
    "a string, not a list": (("    return command", "    return ' '.join(command)"),
                             "not a list of strings"),
    "numbers left as numbers": (('command += ["-p", name, str(value)]',
                                 'command += ["-p", name, value]'), "not a list of strings"),
}  # fmt: skip


@pytest.mark.slow
def test_the_solution_passes_5_2(evaluate):
    assert evaluate("5.2", command()) == (True, "passed")


@pytest.mark.slow
def test_one_yaml_document_for_every_value_passes_5_2(evaluate):
    def with_yaml(notebook, output, parameters):
        import yaml

        return ["papermill", str(notebook), str(output), "-y", yaml.safe_dump(parameters)]

    assert evaluate("5.2", with_yaml) == (True, "passed")


@pytest.mark.slow
@pytest.mark.parametrize("mistake", COMMAND_MISTAKES)
def test_a_wrong_command_fails_5_2(evaluate, mistake):
    (old, new), message = COMMAND_MISTAKES[mistake]
    passed, said = evaluate("5.2", command(old, new))
    assert not passed and message in said, said


def sweep(old: str = "", new: str = "", *more: tuple[str, str]):
    code = mutate(SWEEP, old, new) if old else SWEEP
    for o, n in more:
        code = mutate(code, o, n)
    return define(code, "run_sweep", {"mlflow": mlflow, "papermill": papermill})


FAILED_LINE = (
    "                except papermill.PapermillExecutionError:\n"
    '                    status = "FAILED"\n'
)

SWEEP_MISTAKES = {
    "children not nested": ([("nested=True", "nested=False")], "To start a nested run"),
    "the values not logged on the child": (
        [("                mlflow.log_params(parameters)"
          "  # a set that fails early still says what it tried\n", "")],
        "failed and its parameters say nothing of what it tried"),
    "no run id passed": ([('"run_id": child.info.run_id,', "")], "runs are not children"),
    "the store not passed": ([('"tracking_uri": mlflow.get_tracking_uri(),', "")],
                             "address of the store"),
    "the set's values not passed": ([("**parameters,", "")], "not with one of the parameter sets"),
    "stops at the failure": (
        [(FAILED_LINE, '                finally:\n                    status = "FINISHED"\n')],
        "stopped at the failing parameter set"),
    "the failure marked FINISHED": ([('status = "FAILED"', 'status = "FINISHED"')],
                                    "ended FINISHED, not FAILED"),
    "the failure marked KILLED": ([('status = "FAILED"', 'status = "KILLED"')],
                                  "ended KILLED, not FAILED"),
    "the status never reset": ([('                    status = "FINISHED"\n', ""),
                                ('    with mlflow.start_run(run_name="sweep") as parent:\n',
                                 '    status = "FINISHED"\n'
                                 '    with mlflow.start_run(run_name="sweep") as parent:\n')],
                               "whatever happened to the sets before it"),
    "the parent ended with the last status": (
        [("    return parent.info.run_id", "        mlflow.end_run(status)\n"
          "    return parent.info.run_id")], "the sweep's parent run ended FAILED"),
    "the parent never ended": (
        [('    with mlflow.start_run(run_name="sweep") as parent:\n',
          '    parent = mlflow.start_run(run_name="sweep")\n    if True:\n')],
        "a run is still active"),
    "the notebook of successes only": (
        [('                mlflow.log_artifact(str(executed), "notebook")\n',
          '                if status == "FINISHED":\n'
          '                    mlflow.log_artifact(str(executed), "notebook")\n')],
        "holds 0 notebooks"),
    "one output file for all": ([('f"{number:02d}.ipynb"', '"run.ipynb"')],
                                "holds 1 executed notebooks for 4"),
    "the child's id returned": ([("    return parent.info.run_id", "    return child.info.run_id")],
                                "the id of a child run"),
    "the artifact on the parent": (
        [('                mlflow.log_artifact(str(executed), "notebook")\n', "")],
        "holds 0 notebooks"),
    "the notebook attached before it ran": (
        [('                mlflow.log_artifact(str(executed), "notebook")\n', ""),
         ("                try:\n",
          "                executed.write_text(Path(notebook).read_text())\n"
          '                mlflow.log_artifact(str(executed), "notebook")\n'
          "                try:\n")],
        "a notebook papermill did not execute"),
    "another notebook executed": (
        [("    output_dir.mkdir(parents=True, exist_ok=True)\n",
          "    output_dir.mkdir(parents=True, exist_ok=True)\n"
          '    report = output_dir.parent / "report.ipynb"\n'
          "    report.write_text(Path(notebook).read_text())\n"),
         ("str(notebook), str(executed)", "str(report), str(executed)")],
        "an execution of 'report.ipynb', not of the notebook run_sweep was given"),
    "the folder made without its parents": (
        [("output_dir.mkdir(parents=True, exist_ok=True)", "output_dir.mkdir(exist_ok=True)")],
        "nor the folder above it"),
    "the folder made only when new": (
        [("output_dir.mkdir(parents=True, exist_ok=True)", "output_dir.mkdir(parents=True)")],
        "run again into the same output_dir"),
}  # fmt: skip


@pytest.mark.slow
def test_the_solution_passes_5_3(evaluate):
    assert evaluate("5.3", sweep()) == (True, "passed")


@pytest.mark.slow
@pytest.mark.parametrize("mistake", SWEEP_MISTAKES)
def test_a_wrong_sweep_fails_5_3(evaluate, mistake):
    changes, message = SWEEP_MISTAKES[mistake]
    wrong = sweep(*changes[0], *changes[1:])
    passed, said = evaluate("5.3", wrong)
    assert not passed and message in said, said
