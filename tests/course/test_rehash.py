"""Keeping mutant scores across a pure rename, and only then: the history is a real git
repository holding the real check of exercise 0.1 under another module name."""

import ast
import hashlib
import inspect
import subprocess
from pathlib import Path

import nbformat
import pytest

from reproml.base.errors import ReproMLError
from reproml_course.authoring import mutants as m
from reproml_course.authoring.rehash import parse_renames, rehash, renamed
from reproml_course.base.notebooks import write_notebook
from reproml_course.checks.base import EXERCISES

RENAMES = {"reproml.oldchecks": "reproml_course.checks"}
COUNTS = """from reproml.data import CLASSES

def class_counts(labels):
    ### BEGIN SOLUTION: count each class
    return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}
    ### END SOLUTION"""


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def commit_history(repository: Path, check_source: str, cell: str) -> tuple[str, str]:
    """A repository whose one commit holds the check as ``reproml.oldchecks`` and a solution
    notebook; returns (the commit, the digest a score recorded there would carry)."""
    module = EXERCISES["0.1"].check.__module__.split(".")[-1]
    old = repository / "src" / "reproml" / "oldchecks" / f"{module}.py"
    old.parent.mkdir(parents=True)
    old.write_text(check_source)
    cells = ["from reproml_course import checks", cell, "checks.exercise_0_1(class_counts)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    (repository / "solutions").mkdir()
    write_notebook(nb, repository / "solutions" / "00_counts.ipynb")
    git(repository, "init", "-q")
    git(repository, "add", ".")
    git(repository, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    digest = hashlib.sha256(old.read_bytes() + "\n".join(cells[1:]).encode()).hexdigest()[:16]
    return "HEAD", digest


@pytest.fixture
def today() -> str:
    return Path(inspect.getsourcefile(EXERCISES["0.1"].check)).read_text()


def scores(repository: Path, check_source: str, cell: str, new_cell: str = COUNTS):
    rev, old_digest = commit_history(repository, check_source, cell)
    nb = nbformat.read(repository / "solutions" / "00_counts.ipynb", as_version=4)
    nb.cells[1].source = new_cell
    write_notebook(nb, repository / "solutions" / "00_counts.ipynb")
    codes = m.exercise_code(repository / "solutions")
    record = {"0.1": {"digest": old_digest, "mutants": 9, "killed": 9, "survivors": []}}
    return record, codes, rehash(record, codes, rev, RENAMES, repository)


def test_a_check_that_only_moved_keeps_its_score(tmp_path, today):
    old_source = renamed(today, {v: k for k, v in RENAMES.items()})
    assert "reproml.oldchecks." in old_source  # the rename did something to undo
    record, codes, outcome = scores(tmp_path, old_source, COUNTS)
    assert outcome == {"0.1": "rehashed"}
    assert record["0.1"]["digest"] == m.digest(codes["0.1"])
    assert record["0.1"]["killed"] == 9 and m.stale(record, codes) == []


def test_a_check_the_formatter_rewrapped_and_sorted_keeps_its_score(tmp_path, today):
    lines = renamed(today, {v: k for k, v in RENAMES.items()}).splitlines(keepends=True)
    run = [i for i, line in enumerate(lines) if line.startswith(("import ", "from typing"))]
    assert len(run) == 2  # one run of imports, written in the other order before
    lines[run[0]], lines[run[1]] = lines[run[1]], lines[run[0]]
    old_source = "".join(lines).replace("expect(\n", "expect(  # a comment\n", 1)
    *_, outcome = scores(tmp_path, old_source, COUNTS)
    assert outcome == {"0.1": "rehashed"}


def test_a_reworded_docstring_keeps_its_score_a_reworded_message_does_not(tmp_path, today):
    """A check's docstring is its second hint, prose no mutant's fate depends on; a message
    string is code (a check may compare it), so it still needs a rescore."""
    old_source = renamed(today, {v: k for k, v in RENAMES.items()})
    module = ast.get_docstring(ast.parse(old_source), clean=False)
    assert module and module in old_source
    reworded = old_source.replace(module, "an older docstring, since reworded", 1)
    *_, outcome = scores(tmp_path / "docstring", reworded, COUNTS)
    assert outcome == {"0.1": "rehashed"}
    message = "class_counts changed the labels it was given"
    assert message in old_source
    *_, outcome = scores(tmp_path / "message", old_source.replace(message, "x" + message), COUNTS)
    assert outcome == {"0.1": "rescore: its check changed beyond the renames"}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("check", "rescore: its check changed beyond the renames"),
        ("cells", "rescore: its cells changed beyond the renames"),
        ("stale", "rescore: its record was not up to date at HEAD"),
    ],
)
def test_any_other_difference_leaves_the_score_stale(tmp_path, today, change, said):
    old_source = renamed(today, {v: k for k, v in RENAMES.items()})
    if change == "check":
        old_source = old_source.replace("expect(", "expect(not ", 1)
    new_cell = COUNTS.replace("labels == i", "labels != i") if change == "cells" else COUNTS
    rev, _ = commit_history(tmp_path, old_source, COUNTS) if change == "stale" else (None, None)
    if change == "stale":  # a score recorded before a change of the check, never rescored
        codes = m.exercise_code(tmp_path / "solutions")
        record = {"0.1": {"digest": "0123456789abcdef", "mutants": 9, "killed": 9}}
        outcome = rehash(record, codes, rev, RENAMES, tmp_path)
    else:
        record, codes, outcome = scores(tmp_path, old_source, COUNTS, new_cell)
    assert outcome == {"0.1": said}
    assert m.stale(record, codes) == ["0.1"]


def test_a_name_is_renamed_whole_and_a_bad_pair_is_one_line():
    text = "from reproml.oldchecks.base import x; reproml.oldchecksum; myreproml.oldchecks"
    assert renamed(text, RENAMES) == (
        "from reproml_course.checks.base import x; reproml.oldchecksum; myreproml.oldchecks"
    )
    with pytest.raises(ReproMLError, match="A rename is OLD=NEW"):
        parse_renames(["reproml_course.checks"])
