"""``reproml-course mutants --rehash REV [OLD=NEW ...]``: keep the mutants' scores across a
rename, a split or a reworded docstring.

A mutant score is kept with the digest of what it depends on: the check's module and the
exercise's cells (``mutants.digest``). Moving a module changes the bytes of every check that
names it, so every digest, and rescoring the course costs hours of kernels for checks that do
exactly what they did. A score still holds when the only change is names. For each exercise
whose digest is stale, this reads the check's source and the exercise's cells as they were at
the commit ``REV`` and proves both that the record's digest was theirs (the score was up to date
there) and that renaming each ``OLD`` to its ``NEW`` in them, as whole dotted names, gives
today's cells exactly and today's check up to formatting: the same Python syntax tree once
comments, docstrings and the order of a run of import statements are set aside (what ``ruff
format`` and the import sorter change when names grow longer), or, when the check's module was
split, that the check runs the very same statements wherever they now live (``moved_code``).
Only then does the record take today's digest; any other difference leaves the exercise stale,
for a rescore.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml_course.authoring.moved_code import code_of, runs_the_same_code
from reproml_course.authoring.mutants import (
    ExerciseCode,
    digest,
    digest_of,
    exercise_cells,
    exercise_code,
)
from reproml_course.checks.base import EXERCISES


def parse_renames(pairs: list[str]) -> dict[str, str]:
    """``["reproml.checks=reproml_course.checks", ...]`` -> {old: new}."""
    renames = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise ReproMLError(
                f"A rename is OLD=NEW (reproml.checks=reproml_course.checks): {pair!r}"
            )
        renames[old] = new
    return renames


def renamed(text: str, renames: dict[str, str]) -> str:
    """``text`` with each old name replaced where it stands as a whole dotted or slashed name:
    ``reproml.checks`` becomes ``reproml_course.checks`` in ``reproml.checks.base``, never
    in ``reproml.checkstyle`` or ``myreproml.checks``."""
    for old, new in renames.items():
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, text)
    return text


def _git_show(repository: Path, rev: str, path: str) -> bytes | None:
    done = subprocess.run(
        ["git", "-C", str(repository), "show", f"{rev}:{path}"], capture_output=True
    )
    return done.stdout if done.returncode == 0 else None


def _cells_at(repository: Path, rev: str, notebook: str) -> dict[str, str]:
    """Each exercise's cells as ``mutants.digest`` joins them, in ``notebook`` as it was at
    ``rev`` (empty when it was not there)."""
    old = _git_show(repository, rev, notebook)
    if old is None:
        return {}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / Path(notebook).name).write_bytes(old)
        return {id: exercise_cells(code) for id, code in exercise_code(Path(folder)).items()}


def rehash(
    record: dict,
    codes: dict[str, ExerciseCode],
    rev: str,
    renames: dict[str, str],
    repository: Path,
) -> dict[str, str]:
    """For each stale exercise of the record: "rehashed", or why it must be rescored.
    ``record`` takes the new digests of the rehashed ones."""
    backwards = {new: old for old, new in renames.items()}
    outcome, old_notebooks = {}, {}
    for id, code in codes.items():
        entry, today = record.get(id), digest(code)
        if entry is None or entry.get("digest") == today:
            continue
        check = EXERCISES[id].check
        check_file = Path(inspect.getsourcefile(check))
        old_module = _module_at(repository, rev, renamed(check.__module__, backwards), check)
        old_source = _git_show(repository, rev, _module_path(old_module))
        notebook = code.notebook.resolve().relative_to(repository.resolve()).as_posix()
        if notebook not in old_notebooks:  # read once for all its exercises
            old_notebooks[notebook] = _cells_at(repository, rev, notebook)
        old_cells = old_notebooks[notebook].get(id)
        if old_source is None or old_cells is None:
            outcome[id] = f"rescore: its check or its cells are not found at {rev}"
            continue
        if digest_of(old_source, old_cells) != entry["digest"]:
            outcome[id] = f"rescore: its record was not up to date at {rev}"
            continue
        if renamed(old_cells, renames) != exercise_cells(code):
            outcome[id] = "rescore: its cells changed beyond the renames"
        elif _code(renamed(old_source.decode(), renames)) == _code(check_file.read_text()):
            entry["digest"] = today
            outcome[id] = "rehashed"
        elif _only_moved(repository, rev, renames, old_module, check):
            entry["digest"] = today
            outcome[id] = "rehashed: its definitions moved between check modules, unchanged"
        else:
            outcome[id] = "rescore: its check changed beyond the renames"
    return outcome


def _module_path(module: str) -> str:
    return f"src/{module.replace('.', '/')}.py"


def _module_at(repository: Path, rev: str, module: str, check: Callable) -> str:
    """The module that defined ``check`` at ``rev``: ``module``, or the one it was moved from."""
    if _git_show(repository, rev, _module_path(module)) is not None:
        return module
    found = subprocess.run(
        ["git", "-C", str(repository), "grep", "-l", f"^def {check.__name__}(", rev, "--", "src"],
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    if len(found) != 1:
        return module
    path = found[0].split(":", 1)[1].removeprefix("src/").removesuffix(".py")
    return path.replace("/", ".")


def _only_moved(
    repository: Path, rev: str, renames: dict[str, str], old_module: str, check: Callable
) -> bool:
    """Whether ``check`` runs the same statements as at ``rev``: ``moved_code`` proves it."""
    backwards = {new: old for old, new in renames.items()}
    src = Path(inspect.getsourcefile(check)).parents[len(check.__module__.split(".")) - 1]

    def old(module: str) -> str | None:
        source = _git_show(repository, rev, _module_path(renamed(module, backwards)))
        return None if source is None else renamed(source.decode(), renames)

    def new(module: str) -> str | None:
        path = src / _module_path(module).removeprefix("src/")
        return path.read_text() if path.is_file() else None

    old_name = renamed(old_module, renames)
    return runs_the_same_code(old, old_name, new, check.__module__, check.__name__)


def _code(source: str) -> str:
    """The module's syntax tree without its docstrings (a check's docstring is its second hint,
    prose no mutant's fate depends on), with each run of import statements (and the names each
    one imports) in a fixed order."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body = body[1:] or [ast.Pass()]
    return code_of(tree)
