"""The student's path: the student notebook (launch cells and all) filled in with the solution's
code. CI executes every chapter so filled in with nbval (``reproml-course student-path``), each
check cell expected to print what the solution prints; here, how they are filled in, and one
chapter graded with one exercise left unwritten: it loses exactly that exercise's points."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from synthetic_data import write_fashion_mnist

from reproml_course.authoring.grade import grade_notebook
from reproml_course.authoring.student_path import fill_in
from reproml_course.base.notebooks import check_cells, read_notebook, write_notebook
from reproml_course.base.paths import course_dir
from reproml_course.cli.course import main

SOLUTIONS = course_dir("solutions")
NOTEBOOKS = course_dir("notebooks")
CHAPTERS = sorted(p.name for p in NOTEBOOKS.glob("[01][0-9]_*.ipynb"))


def code_cells(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_filled_in_notebook_runs_every_solution_cell_and_expects_every_point(name):
    solution = read_notebook(SOLUTIONS / name)
    student = read_notebook(NOTEBOOKS / name)
    filled = fill_in(read_notebook(NOTEBOOKS / name), solution)
    # Every cell of the solution, in order, and the student's own cells (the Colab one) besides.
    filled_code, solution_code = code_cells(filled), code_cells(solution)
    extra = [source for source in filled_code if source not in solution_code]
    assert [s for s in filled_code if s not in extra] == solution_code
    assert len(extra) == 1 and "google.colab" in extra[0]
    assert code_cells(student) != filled_code
    expected = {cell.id: cell.get("outputs") for cell in solution.cells}
    for index in check_cells(filled).values():
        cell = filled.cells[index]
        assert cell.outputs and cell.outputs == expected[cell.id]
        assert cell.execution_count  # nbval compares the outputs of cells that ran
        assert "nbval-check-output" in cell.metadata.get("tags", [])


def test_a_left_out_exercise_keeps_its_stub_and_expects_nothing():
    name = "01_results_in_txt_files.ipynb"
    student = read_notebook(NOTEBOOKS / name)
    filled = fill_in(read_notebook(NOTEBOOKS / name), read_notebook(SOLUTIONS / name), "1.1")
    checks = check_cells(filled)
    assert filled.cells[checks["1.1"]].outputs == []
    assert filled.cells[checks["1.2"]].outputs
    before = range(checks["1.1"])
    assert [filled.cells[i].source for i in before] == [student.cells[i].source for i in before]


def test_the_command_writes_a_folder_of_its_own(tmp_path: Path, capsys):
    assert main(["student-path", str(tmp_path / "path")]) == 0
    written = sorted(p.name for p in (tmp_path / "path").glob("*.ipynb"))
    assert written == sorted([*CHAPTERS, "experiment.ipynb"])
    assert not list((tmp_path / "path").rglob("fr/*.ipynb"))  # not filled in: nbval would fail
    assert "Wrote 11 filled-in student notebooks" in capsys.readouterr().out
    assert main(["student-path", str(NOTEBOOKS)]) == 1
    assert "would replace the course's own notebooks" in capsys.readouterr().err


@pytest.mark.slow
def test_one_exercise_left_unwritten_loses_exactly_its_points(tmp_path, monkeypatch):
    data = write_fashion_mnist(tmp_path / "data", n_train=1000, n_test=500)
    monkeypatch.setenv("REPROML_DATA_DIR", str(data.root))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    name = "01_results_in_txt_files.ipynb"
    filled = fill_in(read_notebook(folder / name), read_notebook(SOLUTIONS / name), "1.1")
    write_notebook(filled, folder / name)
    grade = grade_notebook(folder / name, solutions=SOLUTIONS, timeout=900)
    lost = {s.exercise: s.message for s in grade.scores if s.points < s.max_points}
    assert list(lost) == ["1.1"], lost
    assert "is not written yet" in lost["1.1"]
    left_out = next(s.max_points for s in grade.scores if s.exercise == "1.1")
    assert grade.points == grade.max_points - left_out > 0
