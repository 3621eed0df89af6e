"""An answer must be the student's own code: not the course's implementation of the same
exercise, and never a check's internals.

The course's library holds working versions of several exercises (the txt writer of chapter
01, the Hydra entry point, the pruning callback...), because later chapters and the
researcher's project use them. A student could pass an exercise by calling one of them, and
would then write none of the tool's code the exercise is about. Two looks catch that:

- before the check, the answer's source and the objects it reaches (globals it names, classes
  it derives from, closures, defaults, the files of a program) are read for a refused name;
- while the check runs, a profile hook notes any refused function that the student's own code
  calls directly (aliases and ``importlib`` included).

A determined student can still hide a call; what this stops is the plausible shortcut.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import sys
import textwrap
import types
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reproml_course.checks.failure import CheckFailed

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


@contextlib.contextmanager
def calls_refused(refused: Sequence[str], answers: Sequence[Any]) -> Iterator[None]:
    """While the block runs, fail (after it) if the student's code called a refused function."""
    codes = _refused_codes(refused)
    if not codes:
        yield
        return
    student = _student_codes(answers)
    scripts = {str(Path(a).resolve()) for a in answers if isinstance(a, str | Path)}
    called: list[str] = []
    previous = sys.getprofile()

    def watch(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes and not called:
            caller = frame.f_back
            if caller is not None and _is_student(caller, student, scripts):
                called.append(codes[frame.f_code])
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(watch)
    try:
        yield
    finally:
        sys.setprofile(previous)
        if called:  # said even when the check failed for another reason meanwhile
            _fail(called[0])


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


def _reachable(answer: Any, seen: set[int]) -> Iterator[tuple[Any, set[str]]]:
    """The answer, and what its code reaches: (object, names its code reads as attributes)."""
    stack = [(answer, 0)]
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen or depth > 4:
            continue
        seen.add(id(obj))
        yield obj, set()
        for child, code_names in _children(obj):
            if isinstance(child, types.ModuleType):
                yield child, code_names
            else:
                stack.append((child, depth + 1))


def _children(obj: Any) -> Iterator[tuple[Any, set[str]]]:
    if isinstance(obj, functools.partial):
        yield obj.func, set()
        yield from ((a, set()) for a in (*obj.args, *obj.keywords.values()))
    elif isinstance(obj, types.MethodType):
        yield obj.__func__, set()
    elif isinstance(obj, type):
        if not _is_students(obj):
            return
        yield from ((base, set()) for base in obj.__mro__[1:])
        for value in vars(obj).values():
            value = getattr(value, "__func__", value)  # staticmethod, classmethod
            value = getattr(value, "fget", value)  # property
            yield value, set()
    elif isinstance(obj, types.FunctionType):
        if not _is_students(obj):
            return
        wrapped = getattr(obj, "__wrapped__", None)
        if wrapped is not None:
            yield wrapped, set()
        names = _code_names(obj.__code__)
        for name in names:
            if name in obj.__globals__:
                value = obj.__globals__[name]
                yield value, names
        for cell in obj.__closure__ or ():
            with contextlib.suppress(ValueError):
                yield cell.cell_contents, names
        yield from (
            (d, set()) for d in (*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values())
        )


def _is_students(obj: Any) -> bool:
    """Library objects are not searched further: only the student's own code is read."""
    module = getattr(obj, "__module__", None) or ""
    return not (
        module.startswith(
            ("reproml.", "reproml_course.", "torch", "mlflow", "optuna", "hydra", "omegaconf")
        )
    )


def _code_names(code: types.CodeType) -> set[str]:
    return set().union(*(nested.co_names for nested in _nested_codes(code)))


def _sources(answer: Any) -> Iterator[str]:
    for obj in (answer, getattr(answer, "__func__", None)):
        if obj is None or not _is_students(obj):
            continue
        with contextlib.suppress(OSError, TypeError):
            yield textwrap.dedent(inspect.getsource(obj))
            return


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


def _refused_codes(refused: Sequence[str]) -> dict[types.CodeType, str]:
    codes: dict[types.CodeType, str] = {}
    for name in refused:
        obj = _resolve(name)
        for function in _functions_of(obj):
            codes[function.__code__] = name
    return codes


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _functions_of(obj: Any) -> Iterator[types.FunctionType]:
    while hasattr(obj, "__wrapped__"):
        if isinstance(obj, types.FunctionType):
            yield obj
        obj = obj.__wrapped__
    if isinstance(obj, types.FunctionType):
        yield obj
    elif isinstance(obj, type):
        for value in vars(obj).values():
            value = getattr(value, "__func__", value)
            if isinstance(value, types.FunctionType):
                yield value


def _student_codes(answers: Sequence[Any]) -> set[types.CodeType]:
    codes: set[types.CodeType] = set()
    seen: set[int] = set()
    for answer in answers:
        if isinstance(answer, str | Path):
            continue
        for obj, _ in _reachable(answer, seen):
            if isinstance(obj, types.FunctionType) and _is_students(obj):
                codes |= _nested_codes(obj.__code__)
    return codes


def _nested_codes(code: types.CodeType) -> set[types.CodeType]:
    codes = {code}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            codes |= _nested_codes(const)
    return codes


def _is_student(frame: types.FrameType, codes: set[types.CodeType], scripts: set[str]) -> bool:
    """The student's code: what the answer reaches, a notebook cell (``__main__``), their
    program's file."""
    return (
        frame.f_code in codes
        or frame.f_globals.get("__name__") == "__main__"
        or frame.f_code.co_filename in scripts
    )
