"""The second look of ``own_code``: while the check runs, a profile hook notes any refused
function that the student's own code calls directly (aliases and ``importlib`` included). The
student's code is what the answer reaches, a notebook cell (``__main__``), or their program's
files."""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from reproml_course.checks.own_code import _fail
from reproml_course.checks.own_code_reach import _is_students, _nested_codes, _reachable


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


def _is_student(frame: types.FrameType, codes: set[types.CodeType], scripts: set[str]) -> bool:
    """The student's code: what the answer reaches, a notebook cell (``__main__``), their
    program's file."""
    return (
        frame.f_code in codes
        or frame.f_globals.get("__name__") == "__main__"
        or frame.f_code.co_filename in scripts
    )
