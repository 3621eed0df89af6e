"""What every way of keeping results provides, and the one that keeps nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omegaconf import DictConfig

if TYPE_CHECKING:
    from reproml.data import FashionMNISTData
    from reproml.training import Callback, TrainingResult


class Tracker:
    """Keeps the results of one run. ``run_experiment`` calls the methods in order:

    ``check`` (before anything slow, so a dead server or an unwritable folder fails first),
    ``start`` (returns callbacks for the training loop), then ``finish`` with the result or
    ``fail`` with the exception that stopped the run.
    """

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and v is not None
        )
        return f"{type(self).__name__}({settings})"

    def check(self) -> None:
        """Raise a ReproMLError now if results could not be kept."""

    def start(self, config: DictConfig, data: FashionMNISTData) -> list[Callback]:
        """The run begins (configuration checked, data loaded); return callbacks for the loop."""
        return []

    def finish(self, result: TrainingResult) -> str | None:
        """Keep the result; return a short description of where it went."""
        return None

    def fail(self, error: BaseException) -> None:
        """The run stopped with ``error`` (KeyboardInterrupt included)."""


class NoTracker(Tracker):
    """``tracking=none``: print the metrics, keep nothing."""
