"""A Hydra callback that checks the output folder before Hydra tries to create it.

Without it, ``hydra.run.dir=/read-only/place`` ends in a stack trace from inside Hydra's
``run_job``; with it, the user gets one line saying which folder and which option to change.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


def output_dir_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be created or written, or None if it can.

    Writes a throwaway file into the nearest existing ancestor instead of creating the folder,
    so a failed check leaves no empty folders behind. (``os.access`` is not enough: it says
    yes to root everywhere, even on read-only mounts.)
    """
    folder = folder.absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"{existing} is not writable ({error.strerror})"
    return None


class CheckOutputDir(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check(Path(config.hydra.run.dir), "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _check(Path(config.hydra.sweep.dir), "hydra.sweep.dir")


def _check(folder: Path, option: str) -> None:
    problem = output_dir_problem(folder)
    if problem:
        # SystemExit is not an Exception, so Hydra lets it through without a traceback.
        raise SystemExit(
            f"Error: Cannot create the output folder {folder}: {problem}. "
            f"Choose another one with {option}=PATH."
        )
