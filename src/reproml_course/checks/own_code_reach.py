"""What an answer reaches, for the look at it before the check (``own_code``) and the calls
noted while the check runs (``own_code_calls``): the answer, the globals its code names, the
classes it derives from, its closures, defaults and wrapped functions, a few levels deep, and
its source. Library objects (the course's, torch, MLflow...) are not searched further: only
the student's own code is read."""

from __future__ import annotations

import contextlib
import functools
import inspect
import textwrap
import types
from collections.abc import Iterator
from typing import Any


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


def _nested_codes(code: types.CodeType) -> set[types.CodeType]:
    codes = {code}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            codes |= _nested_codes(const)
    return codes
