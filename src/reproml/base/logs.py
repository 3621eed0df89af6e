"""Keeping libraries' chatter out of what a student reads: their loggers and their progress
bars."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from reproml.base.env import environment


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
