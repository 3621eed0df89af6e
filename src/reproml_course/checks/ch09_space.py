"""Chapter 09's shared ground: the search space every check of the chapter draws from
(models, batch sizes, the learning rate's range), the configuration key each trial parameter
sets, and the pruning rule (the median, after two finished trials, from epoch 2) that the
checks of 9.2 and 9.4 apply themselves to know which trial must stop, and when."""

from __future__ import annotations

from typing import Any

MODELS = ["logreg", "mlp"]
BATCH_SIZES = [32, 64, 128]
LR_RANGE = (1e-4, 1e-1)
PRUNE_FROM_EPOCH = 2
STARTUP_TRIALS = 2
# trial parameter -> the configuration key it sets
KEYS = {"model": "model.name", "lr": "optimizer.lr", "batch_size": "trainer.batch_size"}


def _reference_pruner() -> Any:
    import optuna

    return optuna.pruners.MedianPruner(STARTUP_TRIALS, n_warmup_steps=PRUNE_FROM_EPOCH)
