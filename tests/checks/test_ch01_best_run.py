"""Chapter 01's check of the best-run finder (1.2), against the mistakes students make:

- values compared as text (``'9' > '0' > '.'``);
- the run with the best *test* accuracy chosen;
- every file of the folder read, ``notes.md`` included;
- the newest file (by name or by time), the oldest, or the first;
- the parameters read from the names (``model=cnn_small`` breaks the split);
- a pattern that drops the exponent (``9.2e-01`` read as 9.2), or that wants a digit before
  the point (``.93`` skipped);
- the first line of each file taken as its validation accuracy;
- any line whose name starts with ``val_accuracy`` (``val_accuracy_top5``);
- the lowest instead of the highest; the value returned instead of the path; the name alone;
- the course's own ``find_best`` / ``read_result_files``.
Correct variants that must pass: the solution, a dict of each file's lines, a full pattern for
a number, pandas.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from solution_cells import code_cell, define

FINDER = define(
    code_cell("01_results_in_txt_files.ipynb", "def find_best_run"), "find_best_run", {"Path": Path}
)
AS_TEXT = ("read as text, or without its exponent, it looks larger", "or compared as text")


def values(folder, metric="val_accuracy"):
    """(path, value as text) of every result file, read from inside the file."""
    for path in sorted(Path(folder).glob("*.txt")):
        lines = dict(line.partition("=")[::2] for line in path.read_text().splitlines())
        yield path, lines[metric]


def with_a_dict(folder):
    return max(values(folder), key=lambda pair: float(pair[1]))[0]


def with_a_pattern(folder):
    number = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    found = {}
    for path in Path(folder).glob("*.txt"):
        match = re.search(rf"^val_accuracy=({number})$", path.read_text(), re.MULTILINE)
        found[path] = float(match.group(1))
    return max(found, key=found.get)


def with_pandas(folder):
    import pandas as pd

    rows = {
        path: pd.read_csv(path, sep="=", header=None, index_col=0)[1]["val_accuracy"]
        for path in Path(folder).glob("*.txt")
    }
    return max(rows, key=lambda path: float(rows[path]))


@pytest.mark.parametrize("finder", [FINDER, with_a_dict, with_a_pattern, with_pandas])
def test_a_right_finder_passes(evaluate, finder):
    for _ in range(3):
        assert evaluate("1.2", finder) == (True, "passed")


def compares_text(folder):
    return max(values(folder), key=lambda pair: pair[1])[0]


def on_the_test_set(folder):
    return max(values(folder, "test_accuracy"), key=lambda pair: float(pair[1]))[0]


def every_file(folder):  # notes.md holds a val_accuracy line too
    best = None
    for path in Path(folder).iterdir():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name == "val_accuracy" and (best is None or float(value) > best[1]):
                best = (path, float(value))
    return best[0]


def last_by_name(folder):
    return max(Path(folder).glob("*.txt"))


def newest(folder):
    return max(Path(folder).glob("*.txt"), key=os.path.getmtime)


def oldest(folder):
    return min(Path(folder).glob("*.txt"), key=os.path.getmtime)


def from_the_name(folder):  # the parameters from the name: breaks on model=cnn_small
    runs = [dict(f.split("=") for f in p.stem.split("_")[:-1]) for p in Path(folder).glob("*.txt")]
    return runs[0]


def pattern(regex):
    def find_best_run(folder):
        found = {}
        for path in Path(folder).glob("*.txt"):
            match = re.search(regex, path.read_text())
            if match:
                found[path] = float(match.group(1))
        return max(found, key=found.get)

    return find_best_run


def first_line(folder):
    paths = list(Path(folder).glob("*.txt"))
    return max(paths, key=lambda p: float(p.read_text().splitlines()[0].partition("=")[2]))


def starts_with(folder):
    def value(path):
        for line in path.read_text().splitlines():
            if line.startswith("val_accuracy"):
                return float(line.split("=")[1])

    return max(Path(folder).glob("*.txt"), key=value)


def lowest(folder):
    return min(values(folder), key=lambda pair: float(pair[1]))[0]


def the_value(folder):
    return max(float(value) for _, value in values(folder))


def the_name(folder):
    return with_a_dict(folder).name


def the_course_s(folder):
    from reproml.tracking.txt import find_best

    return Path(folder) / find_best(folder, "val_accuracy")["file"]


MISTAKES = {
    "text": (compares_text, AS_TEXT),  # whichever folder shows it first
    "test set": (on_the_test_set, "chose the run with the best test accuracy"),
    "every file": (every_file, "which is not a result file of the folder"),
    "last by name": (last_by_name, "but another run has"),
    "newest": (newest, "but another run has"),
    "oldest": (oldest, "but another run has"),
    "from the name": (from_the_name, "raised ValueError"),
    "exponent dropped": (
        pattern(r"val_accuracy=(\d*\.\d+)"),
        "read as text, or without its exponent, it looks larger",
    ),
    "a digit before the point": (
        pattern(r"val_accuracy=(\d+\.\d+(?:e[-+]\d+)?)"),
        "without the 0 before the point: it was skipped or compared as text",
    ),
    "the first line": (first_line, "list their metrics in another order"),
    "a name that starts the same": (starts_with, "its file also has a line val_accuracy_top5="),
    "the lowest": (lowest, "but another run has"),
    "the value": (the_value, "should return the path of the best file, got float"),
    "the name": (the_name, "the name of a file but not its path"),
    "the course's": (the_course_s, "the course's own `reproml.tracking.txt.find_best`"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_wrong_finder_fails(evaluate, mistake):
    finder, message = MISTAKES[mistake]
    for _ in range(3):  # the check draws its folders: the mistake must show every time
        passed, said = evaluate("1.2", finder)
        messages = message if isinstance(message, tuple) else (message,)
        assert not passed and any(m in said for m in messages), said
        assert "compared as text" not in said or mistake in ("text", "a digit before the point")
