"""Chapter 09's hyperparameter search with Optuna, for the search workers of ``reproml-search``.

Hydra's Optuna sweeper would do this from a config file, but every release of it (1.3.0 at
most) requires ``optuna<3``; the course uses Optuna's own API instead, with Hydra composing
each trial's configuration. Several workers share one study through an Optuna storage (a
SQLite file here, a database server on a cluster): each asks the study for its next trial,
so it does not matter whether Hydra's joblib launcher started them on this machine or its
submitit launcher on a cluster's nodes.

The chapter's exercises (the search space, the pruning callback, the objective) are the
student's; this module is what the workers run, from a search space written in YAML. It imports
no torch (the process that launches the workers only creates the study); the workers' pruning
callback, which needs the training loop's classes, is ``reproml_course.chapters.pruning``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reproml.base.errors import ConfigError

if TYPE_CHECKING:
    import optuna
    import pandas as pd


def search_space(space: Mapping[str, Any]) -> dict[str, optuna.distributions.BaseDistribution]:
    """Optuna distributions from ``conf/search.yaml``'s ``space``: a list is a categorical
    choice, ``{low, high, log}`` a range (integers when both ends are)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    found = {}
    for key, spec in space.items():
        if isinstance(spec, list | tuple) and spec:
            found[key] = CategoricalDistribution(list(spec))
        elif isinstance(spec, Mapping) and {"low", "high"} <= set(spec):
            low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
            ints = isinstance(low, int) and isinstance(high, int)
            found[key] = (IntDistribution if ints else FloatDistribution)(low, high, log=log)
        else:
            raise ConfigError(
                f"search.space.{key} should be a list of choices or {{low, high, log}}, "
                f"got {spec!r}."
            )
    return found


def as_overrides(params: Mapping[str, Any]) -> list[str]:
    """A trial's parameters as Hydra overrides: a key names a group (``model=mlp``) or a
    value (``optimizer.lr=0.003``)."""
    return [f"{key}={value!r}" if isinstance(value, str) and " " in value else f"{key}={value}"
            for key, value in params.items()]  # fmt: skip


def quiet_optuna() -> None:
    """Optuna logs a line per trial and per study opened, with terminal colours: warnings only."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make_study(
    name: str, storage: str | None, seed: int, prune_from_epoch: int = 2
) -> optuna.Study:
    """The study a worker joins (created by the first): TPE seeded per worker, median
    pruning from epoch ``prune_from_epoch`` on, once two trials have finished."""
    import optuna

    return optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=prune_from_epoch),
    )


def run_trials(
    study: optuna.Study,
    space: Mapping[str, optuna.distributions.BaseDistribution],
    train_trial: Callable[[optuna.Trial], float],
    n_trials: int,
) -> None:
    """``n_trials`` trials of ``study``, asked and told one by one (``study.optimize`` with a
    fixed search space): ``train_trial(trial)`` trains the trial's configuration and returns
    its validation accuracy, or raises ``optuna.TrialPruned``."""
    import optuna

    for _ in range(n_trials):
        trial = study.ask(dict(space))
        try:
            value = train_trial(trial)
        except optuna.TrialPruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except BaseException:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        else:
            study.tell(trial, value)


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: its number, state, parameters, value and last epoch reported."""
    import pandas as pd

    rows = []
    for trial in study.trials:
        steps = trial.intermediate_values
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name,
                **trial.params,
                "val_accuracy": trial.value,
                "epochs": max(steps) if steps else 0,
            }
        )
    return pd.DataFrame(rows).set_index("trial")


def workers_that_fit(wanted: int, per_worker_gib: float = 1.1, notebook_gib: float = 1.2) -> int:
    """How many search workers to start at once beside a notebook: ``wanted``, or as many as
    the memory this machine grants holds (a container's limit: 2 GB on Binder, where that is
    none: a worker is a process of its own that imports torch and trains, about 1.1 GB, and
    the notebook's kernel already holds about 1.2 GB)."""
    limit = memory_limit_bytes()
    if limit is None:
        return wanted
    return max(0, min(wanted, int((limit / 2**30 - notebook_gib) / per_worker_gib)))


def memory_limit_bytes() -> int | None:
    """The memory limit of this process's cgroups (reproml.base.cgroups), else the machine's."""
    import os

    from reproml.base.cgroups import memory_limit

    limit = memory_limit()
    if limit is not None:
        return limit
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
