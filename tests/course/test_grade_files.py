"""What is not a notebook gets one line naming the file, a non-zero exit, and no kernel."""

import json

import pytest

from reproml_course.cli.course import main


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("just some text\n", "Notebook does not appear to be JSON"),
        ("", "the file is empty"),
        ('{"cells": [{"cell_type": "code", "sou', "Notebook does not appear to be JSON"),
        (json.dumps({"cells": "no"}), "is not a notebook"),
    ],
)
def test_a_file_that_is_not_a_notebook(tmp_path, capsys, content, reason):
    path = tmp_path / "submission.ipynb"
    path.write_text(content)
    assert main(["grade", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"Error: {path} is not a notebook: ") and reason in line


def test_json_output_lists_the_unreadable_file_with_zero_points(tmp_path, capsys):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "ch.ipynb").write_text(
        json.dumps(
            {
                "nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "source": "checks.exercise_5_1(f)",
                           "metadata": {}, "outputs": [], "execution_count": None, "id": "a"}],
            }
        )
    )  # fmt: skip
    bad = tmp_path / "ch.ipynb"
    bad.write_text("oops")
    assert main(["grade", str(bad), "--solutions", str(solutions), "--json"]) == 1
    out, err = capsys.readouterr()
    assert "is not a notebook" in err
    (grade,) = json.loads(out)
    assert grade["unreadable"] and grade["points"] == 0 and grade["max_points"] == 1
    assert grade["scores"][0]["message"] == "not graded: the file is not a notebook."


def test_a_class_folder_among_several_paths_is_named_by_path(tmp_path, capsys):
    """One class (a folder of per-student folders) alone: ``alice/ch.ipynb``; beside another
    path: each file by its path (no kernel here: the files are no notebooks)."""
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "extra").mkdir()
    (tmp_path / "class" / "alice" / "ch.ipynb").write_text("not a notebook")
    (tmp_path / "extra" / "ch2.ipynb").write_text("not a notebook")
    assert main(["grade", str(tmp_path / "class"), "--json"]) == 1
    assert [g["notebook"] for g in json.loads(capsys.readouterr().out)] == ["alice/ch.ipynb"]
    assert main(["grade", str(tmp_path / "class"), str(tmp_path / "extra"), "--json"]) == 1
    assert [g["notebook"] for g in json.loads(capsys.readouterr().out)] == [
        (tmp_path / "class" / "alice" / "ch.ipynb").as_posix(),
        (tmp_path / "extra" / "ch2.ipynb").as_posix(),
    ]
