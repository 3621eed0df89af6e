"""Grading executes real notebooks in a real kernel: slow."""

import json

import nbformat
import pytest
from synthetic_data import write_fashion_mnist

from reproml_course.authoring.build import build_student_notebook
from reproml_course.authoring.grade import format_grades, grade_notebook, grade_path
from reproml_course.base.messages import translate
from reproml_course.base.notebooks import write_notebook
from reproml_course.base.paths import course_dir
from reproml_course.cli.course import main

pytestmark = pytest.mark.slow

GRID = """from reproml.data import CLASSES

def class_counts(labels):
    ### BEGIN SOLUTION: count each class
    return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}
    ### END SOLUTION"""
DIFF = """import torch

def same_weights(a, b):
    ### BEGIN SOLUTION: compare the models
    a, b = a.state_dict(), b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ### END SOLUTION"""


def course_notebook(*middle: str) -> nbformat.NotebookNode:
    cells = [
        "from reproml_course import checks",
        GRID,
        "checks.exercise_0_1(class_counts)",
        *middle,
        DIFF,
        "checks.exercise_6_1(same_weights)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture
def course(tmp_path):
    """A solutions folder with one notebook, and a place for submissions."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "submitted").mkdir()
    write_notebook(course_notebook(), tmp_path / "solutions" / "ch.ipynb")

    def grade(nb):
        path = tmp_path / "submitted" / "ch.ipynb"
        write_notebook(nb, path)
        return grade_notebook(path, solutions=tmp_path / "solutions", timeout=120)

    return grade


def scores(grade):
    return [(s.exercise, s.points, s.max_points) for s in grade.scores]


def test_solution_gets_full_marks(course):
    grade = course(course_notebook())
    assert scores(grade) == [("0.1", 1, 1), ("6.1", 2, 2)]
    assert "Total: 3/3 points" in format_grades([grade])


def test_student_version_gets_zero_with_a_clear_message_each(course):
    grade = course(build_student_notebook(course_notebook()))
    assert scores(grade) == [("0.1", 0, 1), ("6.1", 0, 2)]
    assert all("is not written yet" in s.message for s in grade.scores)
    assert grade.problem is None


def test_a_french_notebook_is_graded_in_french_with_the_same_keys(course, monkeypatch):
    """The notebook's metadata chooses the language of its kernel's checks and of the
    grader's own words; the record and the JSON keep their keys."""
    monkeypatch.delenv("REPROML_LANG", raising=False)
    student = build_student_notebook(course_notebook("1 / 0  # a cell that crashes"))
    english = course(student)
    student.metadata["reproml"] = {"language": "fr"}
    student.cells[-1].source = "answers = 3"  # a deleted check cell
    french = course(student)
    assert [s.exercise for s in french.scores] == [s.exercise for s in english.scores]
    assert french.as_dict().keys() == english.as_dict().keys()
    said = [s.message for s in french.scores]
    assert "reste à écrire" in said[0] and "Indice" in said[0], said
    assert "cellule de vérification a été supprimée" in said[1], said
    assert all("Hint:" not in message for message in said)


def test_a_notebook_with_no_exercise_is_not_executed(tmp_path):
    """experiment.ipynb has nothing to score: no kernel is started for it."""
    marker = tmp_path / "ran"
    cell = f"open({str(marker)!r}, 'w').close()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    write_notebook(nb, tmp_path / "experiment.ipynb")
    grade = grade_notebook(tmp_path / "experiment.ipynb", solutions=tmp_path / "none")
    assert grade.scores == [] and grade.problem is None
    assert not marker.exists()


def test_half_done_with_a_crash_in_between_keeps_what_it_earned(course):
    half = build_student_notebook(course_notebook("1 / 0  # a cell that crashes"))
    half.cells[1].source = GRID.replace("### BEGIN SOLUTION: count each class\n", "")
    half.cells[1].source = half.cells[1].source.replace("    ### END SOLUTION", "")
    grade = course(half)
    assert scores(grade) == [("0.1", 1, 1), ("6.1", 0, 2)]


def test_a_wrong_answer_does_not_pass(course):
    wrong = course_notebook()
    wrong.cells[3].source = "def same_weights(a, b):\n    return True"
    grade = course(wrong)
    assert scores(grade) == [("0.1", 1, 1), ("6.1", 0, 2)]
    assert "differs in one element are identical" in grade.scores[1].message


def test_editing_or_deleting_a_check_cell_does_not_help(course):
    cheat = build_student_notebook(course_notebook())
    cheat.cells[2].source = "checks.exercise_0_1(lambda labels: None) if False else print('passed')"
    del cheat.cells[4]  # the check of 6.1
    grade = course(cheat)
    assert scores(grade) == [("0.1", 0, 1), ("6.1", 0, 2)]
    assert "is not written yet" in grade.scores[0].message  # the original check ran
    assert "check cell was deleted" in grade.scores[1].message


def test_a_folder_graded_two_at_a_time_keeps_file_order(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    wrong = course_notebook()
    wrong.cells[3].source = "def same_weights(a, b):\n    return True"
    write_notebook(course_notebook(), folder / "a_full.ipynb")
    write_notebook(build_student_notebook(course_notebook()), folder / "b_empty.ipynb")
    write_notebook(wrong, folder / "c_wrong.ipynb")
    grades = grade_path(folder, timeout=120, jobs=2)
    assert [(g.notebook, g.points) for g in grades] == [
        ("a_full.ipynb", 3),
        ("b_empty.ipynb", 0),
        ("c_wrong.ipynb", 1),
    ]


def test_jobs_must_be_a_positive_number(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", "notebooks", "--jobs", "0"])
    assert exit_.value.code == 2
    assert "expected a whole number of 1 or more, got '0'" in capsys.readouterr().err


def test_a_folder_with_a_file_that_is_no_notebook_grades_the_others(tmp_path, capsys):
    folder = tmp_path / "submissions"
    folder.mkdir()
    write_notebook(course_notebook(), folder / "a_full.ipynb")
    (folder / "b_broken.ipynb").write_text('{"cells": [')  # a truncated download
    assert main(["grade", str(folder), "--jobs", "2"]) == 1
    out, err = capsys.readouterr()
    (error,) = [line for line in err.splitlines() if "Error" in line]  # and a progress bar
    assert error.startswith(f"Error: {folder / 'b_broken.ipynb'} is not a notebook: ")
    assert "a_full.ipynb" in out and "b_broken" not in out
    assert "Total: 3/3 points over 1 notebook(s)." in out


QUIZ = """### BEGIN SOLUTION: your answers, one letter per question
answers = {1: "a", 2: "d"}
### END SOLUTION"""


def quiz_notebook() -> nbformat.NotebookNode:
    cells = [
        "from reproml_course import checks",
        QUIZ,
        'checks.quiz("0.Q1", answers)\nchecks.quiz("0.Q2", answers)',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = course_notebook().metadata["kernelspec"]
    return nb


def test_an_unanswered_quiz_says_not_answered_instead_of_a_name_error(tmp_path):
    write_notebook(quiz_notebook(), tmp_path / "solution.ipynb")
    answered = grade_notebook(tmp_path / "solution.ipynb", timeout=120)
    assert scores(answered) == [("0.Q1", 1, 1), ("0.Q2", 1, 1)]
    write_notebook(build_student_notebook(quiz_notebook()), tmp_path / "student.ipynb")
    grade = grade_notebook(tmp_path / "student.ipynb", timeout=120)
    assert scores(grade) == [("0.Q1", 0, 1), ("0.Q2", 0, 1)]
    for score in grade.scores:
        assert score.message.startswith("not answered: write your letters"), score.message
        assert "NameError" not in score.message


def test_a_folder_of_student_folders_grades_each_student_with_a_total_each(tmp_path, capsys):
    for student, nb in [
        ("alice", course_notebook()),
        ("bob", build_student_notebook(course_notebook())),
    ]:
        (tmp_path / "class" / student).mkdir(parents=True)
        write_notebook(nb, tmp_path / "class" / student / "ch.ipynb")
    grades = grade_path(tmp_path / "class", timeout=120, jobs=2)
    assert [(g.notebook, g.points, g.max_points) for g in grades] == [
        ("alice/ch.ipynb", 3, 3),
        ("bob/ch.ipynb", 0, 3),
    ]
    table = format_grades(grades)
    assert [line.split()[:3] for line in table.splitlines() if " total " in line] == [
        ["alice/ch.ipynb", "total", "3/3"],
        ["bob/ch.ipynb", "total", "0/3"],
    ]
    assert table.splitlines()[-1] == "Total: 3/6 points over 2 notebook(s)."


def test_several_folders_are_graded_in_one_queue_named_by_path_with_their_language(
    tmp_path, capsys
):
    english, french = tmp_path / "notebooks", tmp_path / "notebooks" / "fr"
    french.mkdir(parents=True)
    write_notebook(build_student_notebook(course_notebook()), english / "ch.ipynb")
    translated = build_student_notebook(course_notebook())
    translated.metadata["reproml"] = {"language": "fr"}  # as the build writes notebooks/fr/
    write_notebook(translated, french / "ch.ipynb")
    assert main(["grade", str(english), str(french), "--jobs", "2", "--json"]) == 0
    grades = json.loads(capsys.readouterr().out)
    assert [(g["notebook"], g["language"], g["points"]) for g in grades] == [
        ((english / "ch.ipynb").as_posix(), "en", 0),
        ((french / "ch.ipynb").as_posix(), "fr", 0),
    ]
    said = [[s["message"] for s in g["scores"]] for g in grades]
    assert all(said) and all(a != b for a, b in zip(*said, strict=True))


@pytest.mark.parametrize("name", ["00_setup_and_data.ipynb", "08_environments_uv.ipynb"])
def test_a_french_chapter_as_handed_out_gets_zero_and_a_french_message_each(
    name, tmp_path, monkeypatch
):
    """The course's own French student notebook, graded against its solution: every exercise
    and quiz at zero, each message French through and through (the checks' translation finds
    no English left in it), none a crash."""
    data = write_fashion_mnist(tmp_path / "data", n_train=1000, n_test=500)
    monkeypatch.setenv("REPROML_DATA_DIR", str(data.root))
    monkeypatch.delenv("REPROML_LANG", raising=False)
    grade = grade_notebook(
        course_dir("notebooks") / "fr" / name, solutions=course_dir("solutions"), timeout=300
    )
    assert grade.language == "fr" and grade.problem is None
    assert len(grade.scores) >= 3 and grade.points == 0
    for score in grade.scores:
        assert translate(score.message, "fr") == score.message, score.message
        french = "pas de réponse" if ".Q" in score.exercise else "reste à écrire"
        assert french in score.message, score.message
