"""Chapter 08's checks against what students really do: `uv pip install` instead of a project,
`uv init` without --no-workspace inside another project, `uv add` without the version asked,
a pyproject.toml edited by hand and never locked (or edited after locking), a project made in
the working folder instead of the one given; a lock diff that misses additions and removals,
lists every package, swaps old and new, or puts "" where a package is absent."""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

MAKE = code_cell("08_environments_uv.ipynb", "def make_project")
CHANGES = code_cell("08_environments_uv.ipynb", "def lock_changes")


def test_the_solutions_pass(evaluate):
    assert evaluate("8.1", define(MAKE, "make_project")) == (True, "passed")
    assert evaluate("8.2", define(CHANGES, "lock_changes")) == (True, "passed")


PIP_INSTALL = """
import subprocess
def make_project(folder, requirements):
    subprocess.run(["uv", "venv", str(folder / ".venv")], check=True)
    subprocess.run(["uv", "pip", "install", "--python", str(folder / ".venv"), *requirements],
                   check=True)
"""

HAND_EDITED = """
import subprocess
def make_project(folder, requirements):
    subprocess.run(["uv", "init", "--app", "--no-package", "--no-workspace", str(folder)],
                   check=True)
    text = (folder / "pyproject.toml").read_text()
    listed = ", ".join(repr(r) for r in requirements)
    (folder / "pyproject.toml").write_text(text.replace("dependencies = []",
                                                        f"dependencies = [{listed}]"))
"""

EDITED_AFTER_LOCKING = """
import subprocess
def make_project(folder, requirements):
    subprocess.run(["uv", "init", "--app", "--no-package", "--no-workspace", str(folder)],
                   check=True)
    subprocess.run(["uv", "add", requirements[0]], cwd=folder, check=True)
    text = (folder / "pyproject.toml").read_text()
    for extra in requirements[1:]:
        text = text.replace("dependencies = [", f"dependencies = [{extra!r}, ")
    (folder / "pyproject.toml").write_text(text + "# " + " ".join(requirements) + "\\n")
    subprocess.run(["uv", "remove", "reproml-demo-units"], cwd=folder)
    (folder / "pyproject.toml").write_text(
        text.replace("dependencies = [", "dependencies = ['reproml-demo-units', ")
    )
"""


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (mutate(MAKE, ', "--no-workspace"', ""), "member of that project's workspace"),
        (mutate(MAKE, "*requirements]", '*[r.split("=")[0].split("<")[0].split(">")[0] '
                "for r in requirements]]"), "not reproml-demo-"),
        (PIP_INSTALL, "there is no project in the folder it was given"),
        (HAND_EDITED, "the project has no uv.lock"),
        (EDITED_AFTER_LOCKING, "uv.lock is out of date"),
        (mutate(MAKE, "str(folder)]", "folder.name]"), "raised FileNotFoundError"),
        (mutate(MAKE, '    subprocess.run(["uv", "add"',
                '    (folder / "pyproject.toml").write_text("")\n'
                '    subprocess.run(["uv", "add"'), "the command `uv add"),
    ],
    ids=["no --no-workspace", "no version", "uv pip install", "never locked",
         "edited after locking", "made in the working folder", "broken pyproject"],
)  # fmt: skip
def test_a_wrong_project_fails_8_1(evaluate, code, said, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a project made in the working folder lands
    passed, message = evaluate("8.1", define(code, "make_project"))
    assert not passed and said in message, message


def test_a_stub_says_it_is_not_written(evaluate):
    def make_project(folder, requirements):
        raise NotImplementedError("write make_project")

    passed, message = evaluate("8.1", make_project)
    assert not passed and "not written yet" in message


WRONG_CHANGES = {
    "only packages in both locks": (
        "if old.get(name) != new.get(name)",
        "if name in old and name in new and old[name] != new[name]",
        "missed",
    ),
    "every package": ("if old.get(name) != new.get(name)", "", "did not change"),
    "old and new swapped": (
        "(old.get(name), new.get(name))",
        "(new.get(name), old.get(name))",
        "lock_changes says",
    ),
    "empty text for absent": (
        "(old.get(name), new.get(name))",
        '(old.get(name, ""), new.get(name, ""))',
        "with None",
    ),
}


@pytest.mark.parametrize("mistake", WRONG_CHANGES)
def test_a_wrong_lock_diff_fails_8_2(evaluate, mistake):
    old, new, said = WRONG_CHANGES[mistake]
    passed, message = evaluate("8.2", define(mutate(CHANGES, old, new), "lock_changes"))
    assert not passed and said in message, message


def test_a_line_diff_fails_8_2(evaluate):
    def lock_changes(old_lock, new_lock):
        old, new = set(old_lock.splitlines()), set(new_lock.splitlines())
        return {line: (None, line) for line in new - old}

    passed, message = evaluate("8.2", lock_changes)
    assert not passed and "missed" in message, message
