"""What every way of keeping results provides, and the one that keeps nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reproml.training import Callback, RunSetup, TrainingResult


@dataclass(frozen=True)
class Kept:
    """Where a tracker kept a run's result."""

    where: str | None = None  # a short description for the user, e.g. "MLflow run ... at ..."
    run_id: str | None = None  # the MLflow run, when there is one


class Tracker:
    """Keeps the results of one run. ``run_experiment`` uses it as

    ``tracker.check()`` (before anything slow: a dead server or an unwritable folder fails
    first), then ``with tracker.run(setup) as callbacks:`` train with the callbacks and
    ``tracker.finish(result)``. Leaving the block with an exception (Ctrl-C included) marks
    the run failed; leaving it in any way puts back whatever global state ``start`` changed,
    as ``with mlflow.start_run()`` ends its run.
    """

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and v is not None
        )
        return f"{type(self).__name__}({settings})"

    def check(self) -> None:
        """Raise a ReproMLError now if results could not be kept."""

    @contextlib.contextmanager
    def run(self, setup: RunSetup) -> Iterator[list[Callback]]:
        """The run's block: ``start``, then ``fail`` on any exception, ``close`` always."""
        try:
            yield self.start(setup)
        except BaseException as error:
            self.fail(error)
            raise
        finally:
            self.close()

    def start(self, setup: RunSetup) -> list[Callback]:
        """The run begins (configuration checked, data read); return callbacks for the loop."""
        return []

    def finish(self, result: TrainingResult) -> Kept:
        """Keep the result; say where it went."""
        return Kept()

    def fail(self, error: BaseException) -> None:
        """The run stopped with ``error`` (KeyboardInterrupt included)."""

    def close(self) -> None:
        """Put back any global state ``start`` changed."""


class NoTracker(Tracker):
    """``tracking=none``: print the metrics, keep nothing."""
