"""An answer must be the student's own code: not the course's implementation of the same
exercise, and never a check's internals.

The course's library holds working versions of several exercises (the txt writer of chapter
01, the Hydra entry point, the pruning callback...), because later chapters and the
researcher's project use them. A student could pass an exercise by calling one of them, and
would then write none of the tool's code the exercise is about. Two looks catch that:

- before the check, the answer's source and the objects it reaches (globals it names, classes
  it derives from, closures, defaults, the files of a program; ``own_code_reach``) are read for
  a refused name: here;
- while the check runs, a profile hook notes any refused function that the student's own code
  calls directly (aliases and ``importlib`` included): ``own_code_calls``.

A determined student can still hide a call; what this stops is the plausible shortcut.
"""

from __future__ import annotations

import ast
import contextlib
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from reproml_course.checks.failure import CheckFailed
from reproml_course.checks.own_code_reach import _reachable, _sources

ALWAYS_REFUSED = (
    "reproml_course.checks",
)  # the checks' internals: reference answers, planted data
PUBLIC_CHECKS = (
    "reproml_course.checks.exercise_",
    "reproml_course.checks.hint",
    "reproml_course.checks.quiz",
)
MAX_PROGRAM_BYTES = 1_000_000  # a program's files are read whole: bound that work


def refuse_course_code(refused: Sequence[str], answers: Iterable[Any]) -> None:
    """Fail when an answer names one of ``refused`` (dotted names) or the checks' internals."""
    names = (*ALWAYS_REFUSED, *refused)
    for answer in answers:
        found = _first_refused(answer, names)
        if found:
            _fail(found)


def _fail(name: str) -> None:
    raise CheckFailed(
        f"your answer uses the course's own `{name}` instead of your own code.",
        "the exercise is to write that code yourself: it is what you will write in your own "
        "project, where the course's library is not.",
    )


def _matches(dotted: str, names: Sequence[str]) -> str | None:
    if any(dotted.startswith(public) for public in PUBLIC_CHECKS):
        return None
    for name in names:
        if dotted == name or dotted.startswith(name + "."):
            return name if name not in ALWAYS_REFUSED else dotted
    return None


def _qualified(obj: Any) -> str | None:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return None


def _first_refused(answer: Any, names: Sequence[str]) -> str | None:
    if isinstance(answer, str | Path):
        return _refused_in_files(Path(answer), names)
    seen: set[int] = set()
    for obj, code_names in _reachable(answer, seen):
        dotted = _qualified(obj)
        if dotted and _matches(dotted, names):
            return _matches(dotted, names)
        if isinstance(obj, types.ModuleType):
            for attr in code_names:
                found = _matches(f"{obj.__name__}.{attr}", names)
                if found:
                    return found
    for source in _sources(answer):
        found = _refused_in_source(source, names)
        if found:
            return found
    return None


def _refused_in_files(path: Path, names: Sequence[str]) -> str | None:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.py") if ".venv" not in p.parts)[:200]
    elif path.suffix == ".py" or (path.is_file() and not path.suffix):
        files = [path]
    else:
        return None
    for file in files:
        with contextlib.suppress(OSError):
            if file.stat().st_size > MAX_PROGRAM_BYTES:
                continue
            found = _refused_in_source(file.read_text(errors="replace"), names)
            if found:
                return found
    return None


def _refused_in_source(source: str, names: Sequence[str]) -> str | None:
    """Imports, attribute chains through imported names, and dotted names in strings."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
                found = _matches(alias.name, names) if alias.asname else None
                if found:
                    return found
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                aliases[alias.asname or alias.name] = dotted
                found = _matches(dotted, names)
                if found:
                    return found
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = _matches(node.value.strip(), names)
            if found:
                return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            dotted = _dotted(node, aliases)
            found = _matches(dotted, names) if dotted else None
            if found:
                return found
    return None


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])
