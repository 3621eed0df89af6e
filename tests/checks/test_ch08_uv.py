"""Chapter 08's checks against what students really do.

8.1 (a locked project), each drawn on a list of one requirement and on lists of several:
- `uv pip install` into a virtual environment instead of a project;
- `uv init` without --no-workspace inside another project (yours joins its workspace);
- `uv add` with the package names only, dropping the versions asked for;
- a pyproject.toml edited by hand and never locked, or edited after locking;
- the project made in the working folder instead of the one given; a broken pyproject.toml;
- only the first requirement added (passes on a list of one);
- all the requirements given to uv as one word (passes on a list of one);
- the requirements added as development dependencies (`--dev`), or with `--frozen` (no lock);
- locked with the lowest versions (`--resolution lowest`) instead of uv's default;
- `uv add` run in the folder around the project (the requirements go to the outer project);
- `uv add` without check=True: requirements uv cannot satisfy leave a project without them;
- `uv init` without check=True: on a folder that already holds a project, uv init refuses and
  the requirements go to that project;
- the packages upgraded with `uv pip install --upgrade` after locking (.venv != lock);
- delegating to the course's `reproml_course.chapters.uv_projects.run_uv` or to the check's own
  helpers.
- a package instead of an application: `uv init` with its defaults, or `--app` alone (this
  uv makes a package unless told --no-package: a [build-system] to build and install);
- nothing installed: `uv add --no-sync`, or a hand-edited pyproject.toml then `uv lock` only
  (the project has no .venv);
Correct variants accepted: one `uv add` per requirement, `uv init --no-package`,
`uv --directory`, a hand-edited pyproject.toml then `uv lock` and `uv sync`.

8.2 (what changed between two locks), each drawn on a change of one package, of several (an
addition and a removal among them), each undone, and identical locks:
- only packages in both locks (misses additions and removals); every package reported;
- old and new swapped; "" instead of None where a package is absent;
- a diff of the lock's lines; packages paired by position (zip) instead of by name;
- only the names of the old lock looked at (misses additions), or of the new one (removals);
- only the first change returned; None instead of {} for identical locks;
- delegating to the check's `_reference_changes` / `locked_versions`, or the course's
  `reproml_course.chapters.uv_projects.lock_entries`.
"""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

MAKE = code_cell("08_environments_uv.ipynb", "def make_project")
CHANGES = code_cell("08_environments_uv.ipynb", "def lock_changes")
ADD = '["uv", "add", *requirements]'


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

UPGRADED_AFTER_LOCKING = """
import subprocess
def make_project(folder, requirements):
    subprocess.run(["uv", "init", "--app", "--no-package", "--no-workspace", str(folder)],
                   check=True)
    subprocess.run(["uv", "add", *requirements], cwd=folder, check=True)
    names = [r.split("=")[0].split("<")[0].split(">")[0].split("~")[0] for r in requirements]
    subprocess.run(["uv", "pip", "install", "--python", str(folder / ".venv"), "--upgrade",
                    *names], check=True)
"""

THROUGH_RUN_UV = """
from reproml_course.chapters.uv_projects import run_uv
def make_project(folder, requirements):
    run_uv("init", "--app", "--no-package", "--no-workspace", str(folder))
    run_uv("add", *requirements, cwd=folder)
"""

THROUGH_THE_CHECK = """
import shutil
from reproml_course.checks import ch08_uv
def make_project(folder, requirements):
    ch08_uv.reference_lock(folder.parent, requirements, folder.name)
"""

LOCKED_BY_HAND = (
    HAND_EDITED
    + """
    subprocess.run(["uv", "lock"], cwd=folder, check=True)
"""
)
SYNCED_BY_HAND = (
    LOCKED_BY_HAND
    + """    subprocess.run(["uv", "sync"], cwd=folder, check=True)
"""
)

WRONG_PROJECTS = {
    "no --no-workspace": (mutate(MAKE, ', "--no-workspace"', ""), "member of that project's"),
    "no version": (
        mutate(MAKE, "*requirements]", '*[r.split("=")[0].split("<")[0].split(">")[0]'
               '.split("~")[0] for r in requirements]]'),
        "not reproml-demo-",
    ),
    "uv pip install": (PIP_INSTALL, "there is no project in the folder it was given"),
    "never locked": (HAND_EDITED, "the project has no uv.lock"),
    "edited after locking": (EDITED_AFTER_LOCKING, "uv.lock is out of date"),
    "made in the working folder": (mutate(MAKE, "str(folder)]", "folder.name]"),
                                   "raised FileNotFoundError"),
    "broken pyproject": (
        mutate(MAKE, '    subprocess.run(["uv", "add"',
               '    (folder / "pyproject.toml").write_text("")\n    subprocess.run(["uv", "add"'),
        "the command `uv add",
    ),
    "only the first requirement": (mutate(MAKE, ADD, '["uv", "add", requirements[0]]'),
                                   "does not list"),
    "one word": (mutate(MAKE, ADD, '["uv", "add", " ".join(requirements)]'), "failed"),
    "--dev": (mutate(MAKE, ADD, '["uv", "add", "--dev", *requirements]'), "does not list"),
    "--frozen": (mutate(MAKE, ADD, '["uv", "add", "--frozen", *requirements]'),
                 "the project has no uv.lock"),
    "lowest versions": (mutate(MAKE, ADD, '["uv", "add", "--resolution", "lowest", '
                               "*requirements]"), "resolution mode 'lowest'"),
    "uv add outside the project": (mutate(MAKE, "cwd=folder", "cwd=folder.parent"),
                                   "added to the project around the folder"),
    "upgraded after locking": (UPGRADED_AFTER_LOCKING, "the project's .venv holds versions"),
    "uv add unchecked": (mutate(MAKE, "cwd=folder, check=True", "cwd=folder"),
                         "the failed command went unnoticed"),
    "uv init unchecked": (mutate(MAKE, "str(folder)], check=True", "str(folder)]"),
                          "returned as if all went well, after adding the requirements to that"),
    "a package (uv init's defaults)": (mutate(MAKE, '"--app", "--no-package", ', ""),
                                        "pyproject.toml has a [build-system]"),
    "--app without --no-package": (mutate(MAKE, '"--no-package", ', ""),
                                   "pyproject.toml has a [build-system]"),
    "--no-sync": (mutate(MAKE, ADD, '["uv", "add", "--no-sync", *requirements]'),
                  "the project has no .venv"),
    "locked by hand, never installed": (LOCKED_BY_HAND, "the project has no .venv"),
    "through run_uv": (THROUGH_RUN_UV, "course's own `reproml_course.chapters.uv_projects.run_uv`"),
    "through the check": (THROUGH_THE_CHECK, "course's own `reproml_course.checks.ch08_uv"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", WRONG_PROJECTS)
def test_a_wrong_project_fails_8_1(evaluate, mistake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a project made in the working folder lands
    code, said = WRONG_PROJECTS[mistake]
    for _ in range(2):  # the cases are drawn: the mistake shows every time
        passed, message = evaluate("8.1", define(code, "make_project"))
        assert not passed and said in message, message


ONE_ADD_EACH = """
import subprocess
def make_project(folder, requirements):
    subprocess.run(["uv", "init", "--no-package", "--no-workspace", str(folder)], check=True)
    for requirement in requirements:
        subprocess.run(["uv", "--directory", str(folder), "add", requirement], check=True)
"""


@pytest.mark.parametrize(
    "code", [ONE_ADD_EACH, SYNCED_BY_HAND], ids=["one add each", "uv lock then uv sync"]
)
def test_correct_variants_pass_8_1(evaluate, code):
    assert evaluate("8.1", define(code, "make_project")) == (True, "passed")


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
    "names of the old lock only": ("sorted(old.keys() | new.keys())", "sorted(old)", "missed"),
    "names of the new lock only": ("sorted(old.keys() | new.keys())", "sorted(new)", "missed"),
    "None when nothing changed": (
        "\n    return {",
        "\n    return None if old == new else {",
        "not an empty dict",
    ),
}


@pytest.mark.parametrize("mistake", WRONG_CHANGES)
def test_a_wrong_lock_diff_fails_8_2(evaluate, mistake):
    old, new, said = WRONG_CHANGES[mistake]
    for _ in range(2):
        passed, message = evaluate("8.2", define(mutate(CHANGES, old, new), "lock_changes"))
        assert not passed and said in message, message


def line_diff(old_lock, new_lock):
    old, new = set(old_lock.splitlines()), set(new_lock.splitlines())
    return {line: (None, line) for line in new - old}


def paired_by_position(old_lock, new_lock):
    import tomllib

    old, new = tomllib.loads(old_lock)["package"], tomllib.loads(new_lock)["package"]
    return {
        a["name"]: (a["version"], b["version"])
        for a, b in zip(old, new, strict=False)
        if a["version"] != b["version"]
    }


def first_change_only(old_lock, new_lock):
    import tomllib

    old = {p["name"]: p["version"] for p in tomllib.loads(old_lock)["package"]}
    new = {p["name"]: p["version"] for p in tomllib.loads(new_lock)["package"]}
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) != new.get(name):
            return {name: (old.get(name), new.get(name))}
    return {}


def through_the_check(old_lock, new_lock):
    from reproml_course.checks.ch08_lock_changes import _reference_changes

    return _reference_changes(old_lock, new_lock)


def through_locked_versions(old_lock, new_lock):
    from reproml_course.checks import ch08_uv

    old, new = ch08_uv.locked_versions(old_lock), ch08_uv.locked_versions(new_lock)
    return {
        n: (old.get(n), new.get(n)) for n in old.keys() | new.keys() if old.get(n) != new.get(n)
    }


def through_lock_entries(old_lock, new_lock):
    import re

    from reproml_course.chapters.uv_projects import lock_entries

    def versions(text):
        found = {}
        for block in lock_entries(text):
            name, version = re.search(r'name = "(.*)"\nversion = "(.*)"', block).groups()
            found[name] = version
        return found

    old, new = versions(old_lock), versions(new_lock)
    return {
        n: (old.get(n), new.get(n)) for n in old.keys() | new.keys() if old.get(n) != new.get(n)
    }


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (line_diff, "missed"),
        (paired_by_position, "lock_changes"),
        (first_change_only, "missed"),
        (
            through_the_check,
            "course's own `reproml_course.checks.ch08_lock_changes._reference_changes`",
        ),
        (through_locked_versions, "course's own `reproml_course.checks.ch08_uv"),
        (through_lock_entries, "course's own `reproml_course.chapters.uv_projects.lock_entries`"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:30] or None,
)
def test_other_wrong_lock_diffs_fail_8_2(evaluate, answer, said):
    passed, message = evaluate("8.2", answer)
    assert not passed and said in message, message


def test_a_lock_diff_with_lists_passes_8_2(evaluate):
    def lock_changes(old_lock, new_lock):
        import tomllib

        old = {p["name"]: p["version"] for p in tomllib.loads(old_lock)["package"]}
        new = {p["name"]: p["version"] for p in tomllib.loads(new_lock)["package"]}
        changed = {n for n, v in old.items() ^ new.items()}
        return {n: [old.get(n), new.get(n)] for n in changed}

    assert evaluate("8.2", lock_changes) == (True, "passed")
