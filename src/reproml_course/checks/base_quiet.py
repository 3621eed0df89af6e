"""A check's one line stays alone: the INFO lines and warnings of the libraries a check
runs (MLflow, papermill, Hydra, Optuna...) and what the processes it starts write to the file
descriptors are kept out of the notebook while the check runs, since they vary from run to run
and nbval would report them as differences."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

from reproml.base.logs import no_mlflow_progress_bars, quiet_loggers

# Their INFO lines and warnings (a new MLflow database, papermill's kernel) are noise in the
# check's one line, and they vary from run to run, which nbval would report as a difference.
NOISY_LOGGERS = ("mlflow", "alembic", "papermill", "nbclient", "traitlets", "hydra", "optuna")


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    with (
        quiet_loggers(*NOISY_LOGGERS),
        warnings.catch_warnings(),
        no_mlflow_progress_bars(),
        _child_output_discarded(),
    ):
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _child_output_discarded() -> Iterator[None]:
    """Processes started meanwhile (papermill's kernels, the git and DVC commands of a
    student's function) write to file descriptors 1 and 2, which a notebook shows around the
    check's one line (and nbval, which does not capture them, reports as missing). Python's
    own ``sys.stdout`` and ``sys.stderr`` are left alone."""
    saved = {}
    try:
        for fd in (1, 2):
            saved[fd] = os.dup(fd)
    except OSError:  # no such descriptor at all
        for copy in saved.values():
            os.close(copy)
        yield
        return
    _flush_python_streams()
    with open(os.devnull, "w") as devnull:
        for fd in saved:
            os.dup2(devnull.fileno(), fd)
    try:
        yield
    finally:
        _flush_python_streams()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)


def _flush_python_streams() -> None:
    """What Python buffered goes out before a descriptor changes where it leads."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
