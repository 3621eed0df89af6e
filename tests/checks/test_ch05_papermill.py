"""Chapter 05's checks against what students really do: tag the wrong cell, misspell the tag,
tag the notebook, leave a default set again after the tagged cell; pass every value with -p
(or -r), one option per string; a sweep whose runs are not children, whose notebook logs
elsewhere, that stops at a failure, marks it FINISHED, or attaches the wrong copy."""

from __future__ import annotations

from pathlib import Path

import mlflow
import nbformat
import papermill
import pytest
from solution_cells import SOLUTIONS, code_cell, define, mutate

from reproml.sweeps import write_untagged_copy

COMMAND = code_cell("05_papermill_sweeps.ipynb", "def papermill_command")
SWEEP = code_cell("05_papermill_sweeps.ipynb", "def run_sweep")


@pytest.fixture
def report(tmp_path, hard_synthetic, monkeypatch) -> Path:
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))
    return write_untagged_copy(SOLUTIONS / "experiment.ipynb", tmp_path / "report.ipynb")


def tag(report: Path, *, cell: int = 0, tags=("parameters",), edit=None) -> Path:
    """Tag the report's ``cell``-th code cell; ``edit`` changes the notebook further."""
    nb = nbformat.read(report, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[cell].metadata["tags"] = list(tags)
    if edit:
        edit(nb)
    nbformat.write(nb, report)
    return report


def test_an_untagged_notebook_fails_5_1(evaluate, report):
    passed, said = evaluate("5.1", report)
    assert not passed and "no cell of the saved notebook is tagged `parameters`" in said


def add_cell(source: str, position: int):
    def edit(nb):
        nb.cells.insert(position, nbformat.v4.new_code_cell(source))

    return edit


def notebook_tag(nb):
    nb.metadata["tags"] = ["parameters"]


TAGGING_MISTAKES = {
    "a capital letter": ({"tags": ["Parameters"]}, "papermill looks for exactly `parameters`"),
    "singular": ({"tags": ["parameter"]}, "papermill looks for exactly `parameters`"),
    "the setup cell": ({"cell": 1}, "does more than set default values"),
    "two cells": ({"edit": lambda nb: nb.cells[3].metadata.update(tags=["parameters"])},
                  "2 cells are tagged"),
    "the notebook, not a cell": ({"tags": [], "edit": notebook_tag}, "on the notebook's"),
    "a markdown cell": ({"tags": [], "edit": lambda nb: nb.cells[0].metadata.update(
        tags=["parameters"])}, "markdown cell"),
    "a cell of its own with half the defaults": (
        {"tags": [], "edit": lambda nb: nb.cells.insert(1, _tagged('lr = 0.001\nseed = 42'))},
        "does not set model"),
}  # fmt: skip


def _tagged(source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


@pytest.mark.parametrize("mistake", TAGGING_MISTAKES)
def test_a_wrong_tag_fails_5_1(evaluate, report, mistake):
    how, message = TAGGING_MISTAKES[mistake]
    passed, said = evaluate("5.1", tag(report, **how))
    assert not passed and message in said


@pytest.mark.slow
def test_the_solution_passes_5_1(evaluate, report):
    assert evaluate("5.1", tag(report)) == (True, "passed")


@pytest.mark.slow
def test_a_default_set_again_later_fails_5_1(evaluate, report):
    """The tag is right, but a later cell sets lr again: papermill's value is lost."""
    edited = tag(report, edit=add_cell("lr = 0.001", 2))
    passed, said = evaluate("5.1", edited)
    assert not passed and "but the run trained with lr=0.001" in said


def command(old: str = "", new: str = ""):
    code = mutate(COMMAND, old, new) if old else COMMAND
    return define(code, "papermill_command", {"report": "in.ipynb", "folder": Path("out")})


COMMAND_MISTAKES = {
    "-p for everything": (('"-r" if isinstance(value, str) else "-p"', '"-p"'),
                          "`label` should arrive as str"),
    "-r for everything": (('"-r" if isinstance(value, str) else "-p"', '"-r"'),
                          "should arrive as"),
    "name=value": (('command += ["-r" if isinstance(value, str) else "-p", name, str(value)]',
                    'command += ["-p", f"{name}={value}"]'), "the command failed"),
    "one string per option": (
        ('command += ["-r" if isinstance(value, str) else "-p", name, str(value)]',
         'command.append(f"-p {name} {value}")'), "the command failed"),
    "no output notebook": (('str(notebook), str(output)]', 'str(notebook)]'),
                           "wrote no output notebook"),
    "a string, not a list": (("    return command", "    return ' '.join(command)"),
                             "not a list of strings"),
}  # fmt: skip


@pytest.mark.slow
def test_the_solution_passes_5_2(evaluate):
    assert evaluate("5.2", command()) == (True, "passed")


@pytest.mark.slow
def test_yaml_for_every_value_passes_5_2(evaluate):
    def with_yaml(notebook, output, parameters):
        import json

        return ["papermill", str(notebook), str(output), "-y", json.dumps(parameters)]

    assert evaluate("5.2", with_yaml) == (True, "passed")


@pytest.mark.slow
@pytest.mark.parametrize("mistake", COMMAND_MISTAKES)
def test_a_wrong_command_fails_5_2(evaluate, mistake):
    (old, new), message = COMMAND_MISTAKES[mistake]
    passed, said = evaluate("5.2", command(old, new))
    assert not passed and message in said


def sweep(old: str = "", new: str = ""):
    code = mutate(SWEEP, old, new) if old else SWEEP
    return define(code, "run_sweep", {"mlflow": mlflow, "papermill": papermill})


SWEEP_MISTAKES = {
    "children not nested": (("nested=True", "nested=False"), "To start a nested run"),
    "no run id passed": (('"run_id": child.info.run_id,', ""), "runs are not children"),
    "stops at the failure": (
        ("                except papermill.PapermillExecutionError:\n"
         "                    status = \"FAILED\"\n", "                finally:\n"
         "                    status = \"FINISHED\"\n"), "stopped at the failing parameter set"),
    "the failure marked FINISHED": (('status = "FAILED"', 'status = "FINISHED"'),
                                    "ended FINISHED, not FAILED"),
    "the notebook of successes only": (
        ('                mlflow.log_artifact(str(executed), "notebook")\n',
         '                if status == "FINISHED":\n'
         '                    mlflow.log_artifact(str(executed), "notebook")\n'),
        "holds 0 notebooks"),
    "one output file for all": (('f"{number:02d}.ipynb"', '"run.ipynb"'),
                                "holds 1 executed notebooks"),
    "the child's id returned": (("    return parent.info.run_id", "    return child.info.run_id"),
                                "the id of a child run"),
    "the artifact on the parent": (
        ('                mlflow.log_artifact(str(executed), "notebook")\n', ""),
        "holds 0 notebooks"),
}  # fmt: skip


@pytest.mark.slow
def test_the_solution_passes_5_3(evaluate):
    assert evaluate("5.3", sweep()) == (True, "passed")


@pytest.mark.slow
@pytest.mark.parametrize("mistake", SWEEP_MISTAKES)
def test_a_wrong_sweep_fails_5_3(evaluate, mistake):
    (old, new), message = SWEEP_MISTAKES[mistake]
    passed, said = evaluate("5.3", sweep(old, new))
    assert not passed and message in said
