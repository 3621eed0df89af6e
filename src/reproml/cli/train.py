"""``reproml-train``: the Hydra entry point. Compose the configuration, train, print the metrics.

uv run reproml-train model=mlp optimizer=sgd optimizer.lr=0.05 trainer.epochs=3
uv run reproml-train -m optimizer=sgd,adam model=logreg,mlp
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from reproml.base.errors import ReproMLError
from reproml.base.paths import config_dir
from reproml.config import validate_config

METRICS_FILE = "metrics.json"


def write_metrics(metrics: dict[str, float]) -> Path:
    """``metrics.json`` beside Hydra's ``.hydra/config.yaml``: each run folder holds the
    configuration that ran and what it gave, whatever the tracker (minGPT does the same)."""
    path = Path(HydraConfig.get().runtime.output_dir) / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2) + "\n")
    return path


@hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
def main(cfg: DictConfig) -> float:
    """Returns the validation accuracy: what a Hydra sweeper optimises (never the test's)."""
    try:
        validate_config(cfg)
        # Imported after validation: torch takes seconds to load, a typo should not wait for it.
        from reproml.experiment import run_experiment
        from reproml.metrics import format_metrics

        result = run_experiment(cfg)
    except ReproMLError as error:
        # SystemExit passes through Hydra untouched: one line on stderr, exit code 1.
        raise SystemExit(f"Error: {error}") from None
    except KeyboardInterrupt:
        print("Interrupted (Ctrl-C): no metrics for this run.", file=sys.stderr)
        raise SystemExit(130) from None
    write_metrics(result.metrics)
    if result.saved_to:
        print(f"Saved: {result.saved_to}")
    print(format_metrics(result.metrics))
    return result.metrics["val_accuracy"]


if __name__ == "__main__":
    main()
