"""``reproml-search``: one worker of an Optuna search; Hydra's launchers start several.

uv run reproml-search search.trials=6
uv run reproml-search -m search.worker=0,1 hydra/launcher=joblib
uv run reproml-search -m search.worker=0,1 hydra/launcher=submitit_local
"""

from __future__ import annotations

from typing import Any

import hydra
from hydra import compose
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from reproml.base.errors import ReproMLError
from reproml.base.paths import config_dir, repository_root


def default_storage() -> str:
    root = repository_root()
    folder = (root / "outputs") if root is not None else None
    if folder is None:
        return "sqlite:///optuna.db"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def training_overrides() -> list[str]:
    """The command line's overrides that concern training (not ``search.*``), to compose each
    trial's configuration from ``conf/config.yaml`` the same way."""
    return [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith("search")]


class CreateStores(Callback):
    """Create the MLflow store's tables and the Optuna study once, in the process that
    launches the workers: several processes creating the same SQLite tables at once fail."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.on_multirun_start(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from reproml.tracking.stores import create_store, default_tracking_uri
        from reproml_course.chapters.search import make_study, quiet_optuna

        quiet_optuna()
        create_store(config.tracking.get("uri") or default_tracking_uri())
        search = config.search
        make_study(search.study, search.storage or default_storage(), seed=config.seed)


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="search")
def main(cfg: DictConfig) -> float:
    """Returns the best validation accuracy of the study so far."""
    try:
        return run_worker(cfg, training_overrides())
    except ReproMLError as error:
        raise SystemExit(f"Error: {error}") from None


def run_worker(cfg: DictConfig, overrides: list[str]) -> float:
    import mlflow
    import optuna

    from reproml.config import validate_config
    from reproml.data import load_data
    from reproml.experiment import run_experiment
    from reproml.tracking.stores import default_tracking_uri, experiment_id
    from reproml_course.chapters.pruning import PruneOnValidation
    from reproml_course.chapters.search import (
        as_overrides,
        make_study,
        quiet_optuna,
        run_trials,
        search_space,
    )

    quiet_optuna()
    search = cfg.search
    space = search_space(OmegaConf.to_container(search.space))
    base = [*overrides, *(f"{k}={v}" for k, v in _search_defaults(cfg).items())]
    first = validate_config(compose("config", overrides=base))  # a typo fails before any trial
    data = load_data(first.data)
    study = make_study(
        search.study, search.storage or default_storage(), seed=cfg.seed + search.worker,
        prune_from_epoch=search.prune_from_epoch,
    )  # fmt: skip

    def train_trial(trial: optuna.Trial) -> float:
        name = f"tracking.run_name={search.study}-trial-{trial.number}"
        config = compose("config", overrides=[*base, *as_overrides(trial.params), name])
        result = run_experiment(config, data=data, callbacks=[PruneOnValidation(trial)])
        return result.metrics["val_accuracy"]

    uri = first.tracking.get("uri") or default_tracking_uri()
    mlflow.set_tracking_uri(uri)
    parent = {"experiment_id": experiment_id(uri, first.tracking.experiment),
              "run_name": f"{search.study} worker {search.worker}"}  # fmt: skip
    with mlflow.start_run(**parent, tags={"optuna.study": search.study}):
        run_trials(study, space, train_trial, search.trials)
    done = [t for t in study.trials if t.value is not None]
    best = max(done, key=lambda t: t.value) if done else None
    if best is not None:
        print(f"best so far: trial {best.number} val_accuracy={best.value:.4f} {best.params}")
    return best.value if best is not None else float("nan")


def _search_defaults(cfg: DictConfig) -> dict[str, object]:
    """What ``conf/search.yaml`` sets for training (epochs, tracking), as overrides of
    ``conf/config.yaml``, unless the command line set them already."""
    given = {o.split("=", 1)[0].lstrip("+") for o in training_overrides()}
    values = {
        "trainer.epochs": cfg.trainer.epochs,
        "tracking.experiment": cfg.tracking.experiment,
        "tracking.log_model": cfg.tracking.log_model,
    }
    return {k: v for k, v in values.items() if k not in given}


if __name__ == "__main__":
    main()
