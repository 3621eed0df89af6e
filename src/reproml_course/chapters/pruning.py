"""Stopping a training run early from an Optuna trial: the callback the search workers
(``reproml-search``) give the training loop. Apart from ``reproml_course.chapters.search``
because it needs the training loop's classes, which import torch."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from reproml.training import Callback, EpochRecord

if TYPE_CHECKING:
    import optuna


class PruneOnValidation(Callback):
    """Report each epoch's validation accuracy to the trial; stop the run when the study's
    pruner says this trial is worse than the others were at the same epoch."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_epoch_end(self, record: EpochRecord) -> None:
        import optuna

        if math.isnan(record.val_accuracy):
            return
        self.trial.report(record.val_accuracy, step=record.epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"val_accuracy {record.val_accuracy:.4f} at epoch {record.epoch}"
            )
