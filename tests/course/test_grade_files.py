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
