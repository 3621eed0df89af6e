"""The student's path: the student notebook (the one a student opens, launch cells and all),
filled in with the solution's code, earns every point when graded; with one exercise left
unwritten, it loses exactly that exercise's points. Slow: every chapter runs in a kernel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from synthetic_data import write_fashion_mnist

from reproml.course.grade import grade_notebook
from reproml.course.notebooks import check_cells, read_notebook, write_notebook
from reproml.paths import course_dir

pytestmark = pytest.mark.slow

SOLUTIONS = course_dir("solutions")
NOTEBOOKS = course_dir("notebooks")
CHAPTERS = sorted(p.name for p in NOTEBOOKS.glob("[01][0-9]_*.ipynb"))


def filled_in(name: str, leave_out: str | None = None):
    """The student notebook with each exercise cell holding the solution's code (matched by
    cell id), except the cells of exercise ``leave_out``, left as the stub."""
    solution = {cell.id: cell for cell in read_notebook(SOLUTIONS / name).cells}
    nb = read_notebook(NOTEBOOKS / name)
    skipped = _cells_of(nb, leave_out) if leave_out else set()
    for index, cell in enumerate(nb.cells):
        answer = solution.get(cell.get("id"))
        if answer is not None and "### BEGIN SOLUTION" in answer.source and index not in skipped:
            cell.source = answer.source
    return nb


def _cells_of(nb, exercise: str) -> set[int]:
    """The exercise cells between the check before ``exercise``'s and its own."""
    checks = check_cells(nb)
    end = checks[exercise]
    start = max((i for i in checks.values() if i < end), default=-1)
    return set(range(start + 1, end))


@pytest.fixture
def student_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of notebooks/ (chapter 05 runs experiment.ipynb beside it) and data of its own."""
    data = write_fashion_mnist(tmp_path / "data", n_train=1000, n_test=500)
    monkeypatch.setenv("REPROML_DATA_DIR", str(data.root))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    return folder


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_solutions_written_into_the_student_notebook_earn_every_point(name, student_folder):
    path = student_folder / name
    write_notebook(filled_in(name), path)
    grade = grade_notebook(path, solutions=SOLUTIONS, timeout=900)
    wrong = [f"{s.exercise}: {s.message}" for s in grade.scores if s.points < s.max_points]
    assert grade.problem is None and not wrong, wrong or grade.problem
    assert grade.points == grade.max_points > 0


def test_one_exercise_left_unwritten_loses_exactly_its_points(student_folder):
    name = "01_results_in_txt_files.ipynb"
    path = student_folder / name
    write_notebook(filled_in(name, leave_out="1.1"), path)
    grade = grade_notebook(path, solutions=SOLUTIONS, timeout=900)
    lost = {s.exercise: s.message for s in grade.scores if s.points < s.max_points}
    assert list(lost) == ["1.1"], lost
    assert "is not written yet" in lost["1.1"]
