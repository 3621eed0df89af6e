"""The DVC version of the data a run read, for the MLflow tracker's tags: when a ``.dvc`` file
tracks the data folder, its md5, the file, and the git commit it comes from.

Standard library only: DVC and git are run as programs, when they are there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

QUIET = {"DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0"}  # no analytics, no prompt


def dvc_executable() -> str | None:
    """This environment's ``dvc``, else the one on the PATH, else None."""
    beside = Path(sys.executable).with_name("dvc")
    return str(beside) if beside.is_file() else shutil.which("dvc")


def dvc_data_version(data_root: Path) -> dict[str, str]:
    """The DVC version of a data folder, for the run's tags: the md5 DVC recorded for the
    ``.dvc`` file that tracks it (``data_dvc_md5``), that file (``data_dvc_file``), and the git
    commit it comes from (``data_dvc_commit``); ``+modified`` ends the md5 when the folder no
    longer holds that version. Empty when no ``.dvc`` file tracks the folder."""
    data_root = Path(data_root).resolve()
    for folder in (data_root, *data_root.parents):
        pointer = folder.with_name(folder.name + ".dvc") if folder.name else None
        if pointer is not None and pointer.is_file():
            break
    else:
        return {}
    md5 = _dvc_md5(pointer)
    if md5 is None:
        return {}
    found = {"data_dvc_md5": md5, "data_dvc_file": pointer.name}
    commit = _commit_of(pointer)
    if commit:
        found["data_dvc_commit"] = commit
    if not _matches_pointer(pointer):
        found["data_dvc_md5"] += "+modified"  # the folder is not the version the file names
    return found


def _commit_of(pointer: Path, look_back: int = 100) -> str | None:
    """The latest commit whose copy of the ``.dvc`` file is the one in the folder now (after
    ``git checkout OLD -- data.dvc`` that is OLD, not the last commit)."""
    log = subprocess.run(
        ["git", "log", f"-{look_back}", "--format=%H", "--", pointer.name],
        cwd=pointer.parent, capture_output=True, text=True,
    )  # fmt: skip
    if log.returncode != 0:
        return None
    text = pointer.read_text()
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:./{pointer.name}"],
            cwd=pointer.parent, capture_output=True, text=True,
        )  # fmt: skip
        if shown.returncode == 0 and shown.stdout == text:
            return commit
    return None


def _matches_pointer(pointer: Path) -> bool:
    """Whether the folder still holds what its ``.dvc`` file records (``dvc status``, which
    hashes only files whose size or time changed)."""
    dvc = dvc_executable()
    if dvc is None:
        return True  # cannot tell without DVC; the run's data_digest still identifies the data
    done = subprocess.run(
        [dvc, "status", "--json", pointer.name], cwd=pointer.parent, capture_output=True,
        text=True, env={**os.environ, **QUIET},
    )  # fmt: skip
    return done.returncode == 0 and done.stdout.strip() in {"{}", ""}


def _dvc_md5(pointer: Path) -> str | None:
    """The md5 of the first output of a ``.dvc`` file (YAML, read without a YAML library:
    ``- md5: ...`` under ``outs:``)."""
    for line in pointer.read_text().splitlines():
        stripped = line.strip().lstrip("- ").strip()
        if stripped.startswith("md5:"):
            return stripped.split(":", 1)[1].strip()
    return None
