"""Keeping libraries' chatter out of what a student reads, and the environment switches that
say how they behave."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_loggers(*names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise these loggers to ``level`` for the duration, then put their levels back."""
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, saved, strict=True):
            logger.setLevel(old)


def no_mlflow_progress_bars() -> contextlib.AbstractContextManager[None]:
    """MLflow draws a progress bar (a widget in a notebook) for every artifact it downloads."""
    return environment({"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})


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
