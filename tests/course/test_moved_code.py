"""Keeping a mutant score when a check module is split, and only then: ``moved_code`` proves
that the check depends on the same statements in both trees."""

import ast
import inspect
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from reproml_course.authoring import mutants as m
from reproml_course.authoring.moved_code import module_bindings, runs_the_same_code
from reproml_course.authoring.rehash import rehash
from reproml_course.base.notebooks import write_notebook
from reproml_course.checks.base import EXERCISES

WHOLE = {
    "reproml_course.checks.ch01": '''"""One module."""
from math import isclose

LIMIT = 3


def _helper(x):
    return isclose(x, LIMIT)


def check(x):
    """The check."""
    return _helper(x) and _helper(x + 1)
'''
}
SPLIT = {
    "reproml_course.checks.ch01": '''"""The check, its helper moved."""
from reproml_course.checks.ch01_helpers import _helper


def check(x):
    """The check."""
    return _helper(x) and _helper(x + 1)
''',
    "reproml_course.checks.ch01_helpers": '''"""Helpers."""
from math import isclose

LIMIT = 3


def _helper(x):
    # a comment is not code
    return isclose(
        x, LIMIT
    )
''',
}


def reader(tree: dict[str, str]):
    return tree.get


def proves(new: dict[str, str]) -> bool:
    return runs_the_same_code(
        reader(WHOLE),
        "reproml_course.checks.ch01",
        reader(new),
        "reproml_course.checks.ch01",
        "check",
    )


def test_definitions_moved_whole_run_the_same_code():
    assert proves(SPLIT)
    assert runs_the_same_code(
        reader(SPLIT),
        "reproml_course.checks.ch01",
        reader(WHOLE),
        "reproml_course.checks.ch01",
        "check",
    )


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("ch01_helpers", "LIMIT = 3", "LIMIT = 4"),  # a constant the check reads
        ("ch01_helpers", "x, LIMIT", "LIMIT, x"),  # a moved helper edited on the way
        ("ch01_helpers", "from math import isclose", "from cmath import isclose"),
        ("ch01_helpers", "LIMIT = 3", "LIMIT = 3\nprint('imported')"),  # a side effect
        ("ch01_helpers", "LIMIT = 3", "LIMIT = 3\nLIMIT = 5"),  # bound twice
        ("ch01", "ch01_helpers import _helper", "ch01_gone import _helper"),
        ("ch01", "from reproml_course.checks.ch01_helpers", "from .ch01_helpers"),
        ("ch01", "x + 1", "x + 2"),
    ],
)
def test_any_change_of_what_the_check_runs_fails_the_proof(module, old, new):
    tree = dict(SPLIT)
    name = f"reproml_course.checks.{module}"
    assert old in tree[name]
    tree[name] = tree[name].replace(old, new)
    assert not proves(tree)


def test_a_name_the_check_does_not_reach_may_change():
    tree = dict(SPLIT)
    tree["reproml_course.checks.ch01_helpers"] += "\n\ndef unused():\n    return 1\n"
    assert proves(tree)


def test_what_the_proof_cannot_follow_is_said():
    bindings = module_bindings("import os.path\nfrom a import b as c\nx = 1\n")
    assert bindings["os"] == ("module", "os") and bindings["c"] == ("import", "a", "b")
    assert module_bindings("for i in range(3):\n    pass\n") is None
    assert module_bindings("x = 1\ndef x():\n    pass\n") is None
    pair = module_bindings("A, B = 1, 2\n")  # each name of an unpacking, bound to the statement
    assert pair["A"] is pair["B"] and isinstance(pair["A"], ast.Assign)
    assert module_bindings("A, *B = 1, 2\n") is None
    assert module_bindings("A.b = 1\n") is None


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)
    return done.stdout.decode()


def test_rehash_keeps_the_score_of_a_check_whose_helper_moved(tmp_path):
    """The real check of exercise 0.1, whose helper ``_label_sets`` lived in a module of its
    own at the recorded commit: today's module holds it, unchanged."""
    check = EXERCISES["0.1"].check
    checks = Path(inspect.getsourcefile(check)).parent
    old_checks = tmp_path / "src" / "reproml_course" / "checks"
    shutil.copytree(checks, old_checks, ignore=shutil.ignore_patterns("__pycache__"))
    today = (checks / "ch00_data.py").read_text()
    helper = inspect.getsource(inspect.getmodule(check)._label_sets)
    assert helper in today
    moved = "from reproml_course.checks.ch00_sets import _label_sets\n"
    base = "from reproml_course.checks.base import"
    old = today.replace(helper, "").replace(base, moved + base)
    (old_checks / "ch00_data.py").write_text(old)
    (old_checks / "ch00_sets.py").write_text(f"import random\n\n\n{helper}")
    cells = [
        "from reproml_course import checks",
        "def class_counts(labels):\n    ### BEGIN SOLUTION\n    return {}\n    ### END SOLUTION",
        "checks.exercise_0_1(class_counts)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    (tmp_path / "solutions").mkdir()
    write_notebook(nb, tmp_path / "solutions" / "00_counts.ipynb")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    codes = m.exercise_code(tmp_path / "solutions")
    record = {
        "0.1": {"digest": m.digest_of(old.encode(), m.exercise_cells(codes["0.1"])), "killed": 9}
    }

    outcome = rehash(record, codes, "HEAD", {}, tmp_path)
    assert outcome == {"0.1": "rehashed: its definitions moved between check modules, unchanged"}
    assert m.stale(record, codes) == []

    (old_checks / "ch00_sets.py").write_text(
        f"import random\n\n\n{helper}".replace("rng.", "random.")
    )
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "edited")
    record["0.1"]["digest"] = m.digest_of(old.encode(), m.exercise_cells(codes["0.1"]))
    assert rehash(record, codes, "HEAD", {}, tmp_path) == {
        "0.1": "rescore: its check changed beyond the renames"
    }


def test_imports_the_sorter_reordered_inside_a_function_are_the_same_code():
    """A renamed module moves its deferred import within the run: ``ruff`` sorts it again."""
    old = {"reproml_course.checks.ch02": "def check():\n    import b\n    import a\n    a.f(b)\n"}
    new = {"reproml_course.checks.ch02": "def check():\n    import a\n    import b\n    a.f(b)\n"}
    module = "reproml_course.checks.ch02"
    assert runs_the_same_code(reader(old), module, reader(new), module, "check")
    new[module] = new[module].replace("a.f(b)", "b.f(a)")
    assert not runs_the_same_code(reader(old), module, reader(new), module, "check")
