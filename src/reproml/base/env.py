"""Environment variables for the length of a block, and the PATH the programs a run starts
see."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def path_with_first(folder: str) -> str:
    """``$PATH`` with ``folder`` first (as it is, when it already comes first), so that a
    notebook's shell commands find this environment's program before any other."""
    path = os.environ.get("PATH", "")
    return path if path.split(os.pathsep)[0] == folder else os.pathsep.join([folder, path])


@contextlib.contextmanager
def environment(values: dict[str, str | None], keep_users: bool = False) -> Iterator[None]:
    """Environment variables set (None: unset) for the block (with ``keep_users``, only those
    the user has not set), then put back as they were."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if keep_users and saved[name] is not None:
            continue
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
