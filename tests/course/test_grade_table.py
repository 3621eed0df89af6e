"""The table ``reproml-course grade`` prints for a person: in the notebooks' language where they
all share one, in English where they are mixed; the JSON's keys never change."""

from reproml_course.authoring.grade import ExerciseScore, NotebookGrade, format_grades


def graded(language: str, name: str = "ch.ipynb") -> NotebookGrade:
    score = ExerciseScore("0.1", "class counts", 0, 2, "a message")
    return NotebookGrade(name, language, [score])


def test_french_notebooks_get_a_french_table():
    lines = format_grades([graded("fr"), graded("fr", "autre.ipynb")]).splitlines()
    assert lines[0].split() == ["notebook", "exercice", "points", "commentaire"]
    assert lines[3].split() == ["ch.ipynb", "total", "0/2"]
    assert lines[-1] == "Total\u00a0: 0/4 points sur 2 notebook(s)."


def test_mixed_languages_get_an_english_table():
    lines = format_grades([graded("fr"), graded("en", "other.ipynb")]).splitlines()
    assert lines[0].split() == ["notebook", "exercise", "points", "comment"]
    assert lines[-1] == "Total: 0/4 points over 2 notebook(s)."
