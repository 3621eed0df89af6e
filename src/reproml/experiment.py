"""One run of the course's experiment: train with the one loop, keep the result as configured.

Every entry point ends here: ``reproml-train`` (Hydra), ``reproml-argparse``, the notebooks and
papermill. ``train`` alone trains; ``run_experiment`` also tracks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reproml.base.errors import ConfigError
from reproml.config import validate_config
from reproml.data import FashionMNISTData
from reproml.parts import build_part
from reproml.schema import option_name
from reproml.tracking.base import NoTracker, Tracker
from reproml.tracking.stores import COMPETITION
from reproml.training import Callback, TrainingResult, fit, prepare_run


@dataclass
class ExperimentResult(TrainingResult):
    """The training result, and where the tracker kept it."""

    saved_to: str | None = None  # e.g. "MLflow run ... in experiment ... at ..."
    run_id: str | None = None  # the MLflow run, when tracked with MLflow


def build_tracker(tracking: Mapping[str, Any] | None) -> Tracker:
    """The tracker the ``tracking`` group's ``_target_`` names, built with its parameters; no
    group, no tracking."""
    if not tracking:
        return NoTracker()
    tracker = build_part(tracking, "tracking")
    if not isinstance(tracker, Tracker):
        raise ConfigError(
            f"tracking._target_ {tracking.get('_target_')!r} built a {type(tracker).__name__},"
            " not a tracker (reproml.tracking.base.Tracker)."
        )
    return tracker


def run_experiment(
    config: DictConfig | Mapping[str, Any],
    *,
    data: FashionMNISTData | None = None,
    callbacks: Sequence[Callback] = (),
) -> ExperimentResult:
    """Train as configured and keep the result with the configured tracker.

    ``callbacks`` are called after the tracker's own (to watch or stop the training).

    The configuration is checked once, here; then the tracker, and the data is read, before a
    run is opened: a dead server or a missing file leaves nothing behind. Once open, the
    tracker is told when the run fails or is interrupted, so no MLflow run is ever left RUNNING.
    """
    cfg = validate_config(config)
    _refuse_a_tested_competition_run(cfg)
    tracking = cfg.get("tracking")
    tracker = build_tracker(OmegaConf.to_container(tracking) if tracking is not None else None)
    tracker.check()
    setup = prepare_run(cfg, data)
    with tracker.run(setup) as tracking_callbacks:
        result = fit(setup, [*tracking_callbacks, *callbacks])
        kept = tracker.finish(result)
    trained = {f.name: getattr(result, f.name) for f in fields(TrainingResult)}
    return ExperimentResult(**trained, saved_to=kept.where, run_id=kept.run_id)


def _refuse_a_tested_competition_run(cfg: DictConfig) -> None:
    """A run logged to a competition experiment is never tested: its test accuracy would be
    there for the whole class to choose by, the mistake the competition is built to prevent
    (the leaderboard tests the one run a team submits)."""
    experiment = OmegaConf.select(cfg, "tracking.experiment", default=None)
    if (
        option_name("tracking", cfg.get("tracking") or {}) == "mlflow"
        and isinstance(experiment, str)
        and experiment.startswith(f"{COMPETITION}/")
        and OmegaConf.select(cfg, "data.test", default=True) is not False
    ):
        raise ConfigError(
            f"Invalid configuration: data.test must be false for a run logged to "
            f"{experiment!r}. In the competition you choose on validation, and the leaderboard "
            "tests the run your team submits: add data.test=false."
        )
