"""The setup cell of every course notebook: quick or full mode, where the data is, what runs.

Quick mode is one switch for the whole course: the environment variable ``REPROML_QUICK=1``
(what CI and ``reproml-course execute --quick`` set), or the ``quick`` papermill parameter,
which wins when given. It only adds the Hydra override ``experiment=quick``: the code is the
same in both modes.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from omegaconf import DictConfig

from reproml.base.env import path_with_first
from reproml.base.paths import (
    DATA_DIR_ENV,
    config_dir,
    repository_root,
    resolve_data_root,
)
from reproml.config import load_config, preset_overrides, quick_overrides
from reproml.provenance import package_version
from reproml.tracking.stores import COMPETITION, default_tracking_uri
from reproml_course.base.messages import FIGURE_CONTEXT, say, say_in_context

# QUIET_KERNEL: chapter 05's papermill check imports it from here (moving it would rescore
# that chapter's mutants)
from reproml_course.base.paths import QUICK_ENV, QUIET_KERNEL, count_training_images  # noqa: F401

# Below this many training images the notebooks train with conf/experiment/subset.yaml (the
# course's offline subset has 1,813): the default recipe is tuned to the full 60,000.
SUBSET_BELOW = 10_000


def quick_mode(quick: bool | None = None) -> bool:
    """``quick`` when given (a papermill parameter), else what ``$REPROML_QUICK`` says."""
    if quick is not None:
        return bool(quick)
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CourseSetup:
    """What a notebook needs to run the course's experiments the same way everywhere."""

    quick: bool
    data_root: Path
    overrides: list[str] = field(default_factory=list)
    training_images: int | None = None  # in the data folder's training file; None: not there

    @property
    def config_dir(self) -> Path:
        return config_dir()

    def config(self, *overrides: str) -> DictConfig:
        """The composed configuration: this notebook's mode, then ``overrides``."""
        return load_config([*self.overrides, *overrides])

    def cli_overrides(self) -> str:
        """The same mode as command-line overrides: ``!reproml-train {setup.cli_overrides()}``."""
        return " ".join(self.overrides)

    def app_overrides(self) -> str:
        """The same mode for an app with a ``conf/`` of its own (no ``experiment=`` presets
        there): the preset's values as plain overrides, or nothing in full mode."""
        if self.quick:
            return " ".join(quick_overrides())
        return " ".join(preset_overrides("subset")) if self.subset else ""

    @property
    def subset(self) -> bool:
        """Full mode on a small training set: the notebooks add ``experiment=subset``."""
        return "experiment=subset" in self.overrides

    def describe(self) -> str:
        if self.quick:
            mode = say("quick mode (500 images, 1 epoch)")
        elif self.subset:
            mode = say(
                "full mode on {images} training images: experiment=subset (the recipe for a "
                "small set)",
                images=f"{self.training_images:,}",
            )
        else:
            mode = say("full mode")
        root = repository_root()
        # Relative to the repository: committed outputs should not show a personal path.
        data = os.path.relpath(self.data_root, root) if root is not None else self.data_root
        return (
            f"reproml {package_version('reproml')} | Python {platform.python_version()} | "
            f"torch {package_version('torch')} | {say('data: {path}', path=data)} | {mode}"
        )


def setup_course(quick: bool | None = None, extra_overrides: Sequence[str] = ()) -> CourseSetup:
    """Decide the mode and the data root once, and say them, so every output is traceable."""
    is_quick = quick_mode(quick)
    data_root = course_data_root()
    overrides = [f"data.root={data_root}"]
    training_images = count_training_images(data_root)
    if is_quick:
        overrides += ["experiment=quick", "trainer.progress=false"]
    elif training_images is not None and training_images < SUBSET_BELOW:
        overrides += ["experiment=subset"]
    # Child processes (``!reproml-train``, papermill kernels) inherit the same choices, and
    # MLflow's own API (whose default store depends on the working directory) uses ours.
    os.environ[DATA_DIR_ENV] = str(data_root)
    os.environ.setdefault("MLFLOW_TRACKING_URI", default_tracking_uri())
    # No usage report from the students' MLflow (checked at each event); DVC's is off too.
    # MLFLOW_DISABLE_TELEMETRY=false before Jupyter starts turns it back on.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ[QUICK_ENV] = "1" if is_quick else "0"
    use_kernel_environment_in_shell()
    setup = CourseSetup(is_quick, data_root, [*overrides, *extra_overrides], training_images)
    # A new store's "Creating initial MLflow database tables" notes, and log_model's remark
    # that a uv environment has no pip: nothing a student can act on.
    for name in ("mlflow.store.db.utils", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
    _show_figures_inline()
    from reproml.plots import use_figure_language  # torch: not when a tool imports this module

    use_figure_language(partial(say_in_context, FIGURE_CONTEXT))  # in the student's language
    print(setup.describe())
    return setup


def use_kernel_environment_in_shell() -> None:
    """Put this kernel's environment first on PATH, so that ``!python``, ``!reproml-train`` or
    ``!papermill`` run in it even when Jupyter was started as ``.venv/bin/jupyter lab`` with
    another Python first on PATH. Only in a virtual environment: a system Python (Colab) keeps
    its PATH, where its scripts and its ``python`` live in different folders."""
    if sys.prefix != sys.base_prefix:
        os.environ["PATH"] = path_with_first(str(Path(sys.executable).parent))


def course_data_root() -> Path:
    """Where the notebooks read Fashion-MNIST: ``$REPROML_DATA_DIR``, else ``data/`` in the
    repository, except that a machine prepared with an offline copy beside the repository
    (``../shared/data``, as on workshop and CI machines) uses that copy when ``data/`` is empty.
    """
    default = resolve_data_root()
    root = repository_root()
    if os.environ.get(DATA_DIR_ENV) or root is None or _has_raw_files(default):
        return default
    shared = (root.parent / "shared" / "data").resolve()
    return shared if _has_raw_files(shared) else default


def _has_raw_files(root: Path) -> bool:
    from reproml.data import RAW_FILES, raw_folder  # torch: not for the authoring tools

    return all((raw_folder(root) / name).is_file() for name in RAW_FILES)


def _show_figures_inline() -> None:
    """reproml's plots return matplotlib Figures; in a notebook, show them as images."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "kernel"):
        shell.run_line_magic("matplotlib", "inline")


def course_folder(name: str, fresh: bool = False) -> Path:
    """A folder for a notebook's files (results, sweeps) under ``outputs/notebooks/``.

    ``fresh`` empties it first, so that running a notebook twice shows the same folder.
    """
    root = repository_root() or Path.cwd()
    folder = root / "outputs" / "notebooks" / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fresh_experiment(name: str) -> str:
    """Make ``name`` the active MLflow experiment of the course's store, without the runs an
    earlier execution of the notebook left in it (they go to MLflow's trash, where
    ``mlflow gc`` deletes them for good), so that tables and figures show this execution's
    runs only. Returns its id."""
    import mlflow

    from reproml.tracking.stores import experiment_id

    found = experiment_id(mlflow.get_tracking_uri(), name)  # its files beside the store's
    trash_earlier_runs(found)
    if name.startswith(f"{COMPETITION}/"):
        # Practising chapter 07 alone: the local records of the team's submissions go too, or
        # a sixth execution in a day would meet the limit of submissions of the first five.
        from mlflow import MlflowClient

        from reproml_course.classroom.records import Records

        Records(MlflowClient(), COMPETITION).forget_team(found)
    mlflow.set_experiment(experiment_id=found)
    return found


def trash_earlier_runs(experiment_id: str) -> int:
    """Move the experiment's runs to MLflow's trash, and say how many: a notebook executed
    again then shows its own runs only, and nothing disappears without a word."""
    from mlflow import MlflowClient

    client = MlflowClient()
    runs = client.search_runs([experiment_id], max_results=50_000)
    for run in runs:
        client.delete_run(run.info.run_id)
    if runs:
        print(
            say(
                "{count} run(s) of an earlier execution moved to MLflow's trash (`mlflow gc` "
                "deletes them for good; `mlflow runs restore --run-id ID` brings one back).",
                count=len(runs),
            )
        )
    return len(runs)
