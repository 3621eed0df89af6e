"""Hints come in two tiers, and neither gives the answer away."""

import re

import nbformat
import pytest
from solution_cells import SOLUTIONS

from reproml_course.checks import EXERCISES, hint

CHAPTERS_WITH_TOOLS = ("1.", "2.", "3.", "4.", "5.", "6.", "8.", "9.", "10.")


def solution_lines() -> dict[str, list[str]]:
    """The lines of code between the solution markers, per notebook."""
    found = {}
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        lines, inside = [], False
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if "### BEGIN SOLUTION" in line:
                    inside = True
                elif "### END SOLUTION" in line:
                    inside = False
                elif inside and len(line.strip()) >= 25 and not line.rstrip().endswith("("):
                    lines.append(" ".join(line.split()))  # (a call's first line is its name)
        found[path.name] = lines
    return found


TOOL_EXERCISES = [i for i in EXERCISES if i.startswith(CHAPTERS_WITH_TOOLS) and ".Q" not in i]


@pytest.mark.parametrize("id", TOOL_EXERCISES)
def test_the_second_hint_names_the_tools_and_copies_no_solution_line(id):
    text = " ".join(EXERCISES[id].hint.split())
    assert len(text) > 40, f"exercise {id} has no second hint"
    copied = [line for lines in solution_lines().values() for line in lines if line in text]
    assert not copied, f"the hint of {id} copies the solution: {copied}"
    assert re.search(r"\w+\(|`", text), f"the hint of {id} names no tool"


def test_a_failing_check_points_to_the_second_hint(capsys):
    result = EXERCISES["1.2"].evaluate(lambda folder: None)
    assert not result.passed
    assert result.line().endswith('(Stuck? checks.hint("1.2") names the tools.)')
    hint("1.2")
    assert capsys.readouterr().out.startswith("Exercise 1.2 (choose the best run on validation")
    hint("9.9")
    assert "No exercise '9.9'" in capsys.readouterr().out
