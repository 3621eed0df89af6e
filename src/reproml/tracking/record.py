"""What an MLflow run of the course holds, logged into the active run.

The flattened configuration as parameters, per-epoch metrics (``step`` = epoch), the final test
metrics, tags for the code, data and environment (git commit, ``uv.lock`` digest, versions,
device, data digest, command line), the resolved ``config.yaml``, the confusion matrix (JSON and
figure), the learning curves, the model, and the data set as a run input.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from reproml.base.logs import quiet_loggers
from reproml.base.paths import repository_root
from reproml.config import flatten_config
from reproml.provenance import INSTALLED_ARTIFACT, LOCKED, environment_tags, installed_packages
from reproml.tracking.data_version import dvc_data_version

if TYPE_CHECKING:
    import numpy as np

    from reproml.training import EpochRecord, RunSetup, TrainingResult

EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy", "learning_rate")  # step=epoch


def epoch_metrics(record: EpochRecord) -> dict[str, float]:
    metrics = {name: getattr(record, name) for name in EPOCH_METRICS}
    metrics["epoch_seconds"] = record.seconds  # varies between identical runs
    return {k: v for k, v in metrics.items() if not math.isnan(v)}


def flat_params(config: DictConfig | dict[str, Any]) -> dict[str, str]:
    """The parameters as MLflow stores them (strings), for comparing with a run's params."""
    return {k: str(v) for k, v in flatten_config(config, exclude=("tracking",)).items()}


def run_tags(setup: RunSetup, extra: dict[str, str], notebook: str | None = None) -> dict[str, str]:
    """Code, environment and data of the run, then ``extra`` (the configuration's own tags)."""
    provenance = environment_tags()
    return {
        **provenance,
        **run_source(notebook),
        "mlflow.source.git.commit": provenance["git_commit"],  # MLflow's UI shows it
        "device": str(setup.device),
        "threads": str(setup.threads),  # a CNN's last bits depend on it (reproml.base.threads)
        "data_digest": setup.data.digest,
        # Where DVC tracks the data folder (chapter 10): the version of it, beside the digest.
        **dvc_data_version(Path(setup.config.data.root)),
        **extra,
    }


KERNEL = "ipykernel_launcher.py"  # a Jupyter kernel's program, whatever notebook it runs


def run_source(notebook: str | None = None) -> dict[str, str]:
    """The run's source as MLflow's UI shows it (``mlflow.source.*``) and its ``command``: the
    script and its command line, or in a Jupyter kernel, whose command line is only a temporary
    connection file, the notebook. A kernel cannot tell which notebook it runs: ``notebook``
    (``tracking.notebook``) says it; else JupyterLab's ``$JPY_SESSION_NAME``, which a kernel
    started by papermill from a notebook inherits from that notebook, hence ``notebook`` first."""
    script = Path(sys.argv[0]).name
    if script != KERNEL:
        command = " ".join([script, *sys.argv[1:]])
        return {"mlflow.source.name": script, "mlflow.source.type": "LOCAL", "command": command}
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        return {
            "mlflow.source.name": "a notebook (not named: set tracking.notebook)",
            "mlflow.source.type": "NOTEBOOK",
            "command": "a Jupyter kernel",
        }
    root = repository_root()
    absolute = Path(path).resolve()
    if root is not None and absolute.is_relative_to(root):
        path = absolute.relative_to(root).as_posix()
    return {"mlflow.source.name": path, "mlflow.source.type": "NOTEBOOK", "command": path}


def log_run_setup(setup: RunSetup, tags: dict[str, str]) -> np.ndarray:
    """Parameters, ``config.yaml``, what was installed where it is not the lock's (``tags``:
    the run's), and the data as inputs; returns the model's input example."""
    import mlflow

    from reproml.data import normalize, raw_folder

    config, data = setup.config, setup.data
    mlflow.log_params(flatten_config(config, exclude=("tracking",)))
    mlflow.log_text(OmegaConf.to_yaml(config), "config.yaml")
    if tags.get("environment") != LOCKED:  # pip, Colab: the list of what it had
        listed = "".join(f"{name}=={v}\n" for name, v in installed_packages().items())
        mlflow.log_text(listed, INSTALLED_ARTIFACT)
    source = str(raw_folder(Path(config.data.root)))
    for context, split in (("training", data.train), ("testing", data.test)):
        with warnings.catch_warnings():
            # MLflow registers its local-file source twice and warns that a path "can be
            # interpreted in multiple ways" (both the same class): harmless.
            warnings.filterwarnings("ignore", message=".*interpreted in multiple ways")
            dataset = mlflow.data.from_numpy(
                split.images.cpu().numpy(),
                targets=split.labels.cpu().numpy(),
                source=source,
                name=f"fashion-mnist-{context}",
            )
        log_input_once(dataset, context)
    # Two real images (a batch of one would fix the exported model's batch size to 1), of the
    # training set: a run that is not tested (data.test=false) keeps nothing of the test set.
    return normalize(data.train.images[:2].cpu()).numpy()


def log_input_once(dataset: Any, context: str, attempts: int = 3) -> None:
    """``mlflow.log_input``, tried again when another process created the same data set at
    the same moment: MLflow looks a data set up, then inserts it, and of two runs starting
    together (search workers, a class) the second insert breaks the table's unique key. The
    next try finds the row the other process made."""
    import mlflow
    from mlflow.exceptions import MlflowException

    for attempt in range(attempts):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except MlflowException as error:
            if "UNIQUE constraint" not in str(error) and "duplicate key" not in str(error):
                raise
            if attempt == attempts - 1:
                raise


def log_run_results(result: TrainingResult, input_example: np.ndarray, log_model: bool) -> None:
    """Final metrics, the confusion matrix and learning curves, and the model."""
    import mlflow

    from reproml.data import CLASSES
    from reproml.plots import plot_confusion_matrix, plot_learning_curves

    final = {k: v for k, v in result.metrics.items() if k not in EPOCH_METRICS}
    mlflow.log_metrics({**final, "train_seconds": result.seconds})  # val_accuracy: per epoch
    mlflow.log_dict(
        {
            "split": result.confusion_split,
            "classes": list(CLASSES),
            "matrix": result.confusion_matrix.tolist(),
        },
        "confusion_matrix.json",
    )
    figure = plot_confusion_matrix(result.confusion_matrix, split=result.confusion_split)
    mlflow.log_figure(figure, "confusion_matrix.png")
    mlflow.log_figure(plot_learning_curves(result.history), "learning_curves.png")
    if log_model:
        _log_model(result, input_example)


def _log_model(result: TrainingResult, input_example: np.ndarray) -> None:
    import mlflow.pytorch
    import torch

    model = copy.deepcopy(result.model).cpu().eval()
    # uv environments have no pip; MLflow warns about that while writing conda.yaml, and says
    # it found uv.lock: nothing a student can act on.
    with quiet_loggers("mlflow.utils.environment", "mlflow.utils.uv_utils"):
        info = mlflow.pytorch.log_model(
            model,
            name="model",
            input_example=input_example,
            # Given, not inferred: inference loads the model in a subprocess (seconds).
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"],
        )
    mlflow.set_tag("model_uri", info.model_uri)
