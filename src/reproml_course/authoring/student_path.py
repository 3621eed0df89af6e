"""The student's path: the notebooks a student opens, filled in with the solutions' code.

A correct answer must pass in the notebook the student has (launch cells, instructions, the
stubs' cell layout), not only in the solution notebook: chapter 05's check once refused every
answer there because the student's first code cell was the Colab install cell. CI executes
these filled-in notebooks with nbval, their check cells holding the solutions' outputs, so each
check must print exactly what it prints in the solution (every point).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from nbformat import NotebookNode

from reproml_course.authoring.build import BEGIN
from reproml_course.base.notebooks import check_cells, list_notebooks, read_notebook, write_notebook


def fill_in(
    student: NotebookNode, solution: NotebookNode, leave_out: str | None = None
) -> NotebookNode:
    """``student`` with each exercise cell holding the solution's code and each check cell the
    solution's outputs (cells matched by id), except the cells of exercise ``leave_out``."""
    by_id = {cell.get("id"): cell for cell in solution.cells}
    skipped = _cells_of(student, leave_out) if leave_out else set()
    checks = set(check_cells(student).values())
    for index, cell in enumerate(student.cells):
        answer = by_id.get(cell.get("id"))
        if answer is None or index in skipped:
            continue
        if BEGIN in answer.source:
            cell.source = answer.source
        elif index in checks:  # with its count: nbval refuses outputs of a cell never run
            cell.outputs = copy.deepcopy(answer.get("outputs", []))
            cell.execution_count = answer.get("execution_count")
    return student


def _cells_of(nb: NotebookNode, exercise: str) -> set[int]:
    """The cells between the check before ``exercise``'s and its own (both included: a left-out
    exercise's check keeps no expected output)."""
    checks = check_cells(nb)
    end = checks[exercise]
    start = max((i for i in checks.values() if i < end), default=-1)
    return set(range(start + 1, end + 1))


def write_student_path(notebooks: Path, solutions: Path, destination: Path) -> list[Path]:
    """A copy of ``notebooks`` (chapter 05 runs ``experiment.ipynb`` beside it) in
    ``destination``, each chapter filled in from ``solutions``; the chapters written."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(notebooks, destination, ignore=_hidden_and_translations(notebooks))
    written = []
    for path in list_notebooks(destination):
        reference = solutions / path.name
        solution = read_notebook(reference) if reference.is_file() else None
        if solution is None or not check_cells(solution):
            continue
        write_notebook(fill_in(read_notebook(path), solution), path)
        written.append(path)
    return written


def _hidden_and_translations(notebooks: Path):
    """What the copy leaves out: hidden files, and the translations' folders (``fr/``), whose
    chapters the solutions here do not fill in."""

    def ignored(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == notebooks
        return [n for n in names if n.startswith(".") or (top and (notebooks / n).is_dir())]

    return ignored
