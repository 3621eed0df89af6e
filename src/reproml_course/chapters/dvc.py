"""Chapter 10's data versions with DVC: a project of the student's own and a change of the
data to version (the version a run read is recorded by ``reproml.tracking.data_version``).

DVC is a command-line tool; this module runs it (and git) in a project folder, with DVC's
usage analytics off (they would try to reach the network). Standard library only, no torch.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from reproml.base.env import path_with_first
from reproml.base.errors import ReproMLError
from reproml.tracking.data_version import QUIET, dvc_executable

IDENTITY = {"user.name": "reproml student", "user.email": "student@reproml.invalid"}
LABELS_HEADER = 8  # an IDX labels file: magic number and count, then one byte per label


def ensure_dvc() -> str:
    """DVC, installed if missing: ``uv sync`` installs it with the course (the ``dvc``
    dependency group); Binder's image and Colab do not, so install the lock's version with pip
    (49 packages, about 40 MB, once)."""
    found = dvc_executable()
    if found is not None:
        return found
    locked = _locked_version("dvc")
    requirement = f"dvc=={locked}" if locked else "dvc>=3.50"
    print(f"Installing {requirement} (once)...")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", requirement],
        capture_output=True, text=True,
    )  # fmt: skip
    found = dvc_executable()
    if done.returncode != 0 or found is None:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ReproMLError(f"Could not install DVC: {last}. Try `pip install dvc` yourself.")
    return found


def _locked_version(name: str) -> str | None:
    import tomllib

    from reproml_course.base.paths import course_lock

    try:
        packages = tomllib.loads(course_lock().read_text())["package"]
    except (OSError, KeyError, ValueError):
        return None
    return next((p["version"] for p in packages if p["name"] == name), None)


def use_dvc() -> str:
    """DVC ready for this process and its children: installed, its folder first on the PATH,
    analytics off. Returns the executable."""
    found = ensure_dvc()
    os.environ.update(QUIET)
    # A Jupyter kernel forces colours on its children; DVC then also animates spinners, whose
    # cursor codes a notebook shows as garbage.
    for forced in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        os.environ.pop(forced, None)
    if not _git_config(Path.cwd(), "user.email"):  # a commit needs a name; Binder has none
        for variable in ("AUTHOR", "COMMITTER"):
            os.environ.setdefault(f"GIT_{variable}_NAME", IDENTITY["user.name"])
            os.environ.setdefault(f"GIT_{variable}_EMAIL", IDENTITY["user.email"])
    os.environ["PATH"] = path_with_first(str(Path(found).parent))
    return found


def run_tool(args: Sequence[str], cwd: Path, timeout: float = 300) -> str:
    """``git ...`` or ``dvc ...`` in ``cwd``; its output, or an error with its last line."""
    command = [dvc_executable() or "dvc", *args[1:]] if args[0] == "dvc" else list(args)
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **QUIET},
    )  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [""])[-1]
        raise ReproMLError(f"`{' '.join(args)}` failed in {cwd.name}: {last}")
    return done.stdout + done.stderr


def new_project(folder: Path, remote: Path) -> Path:
    """A git repository with DVC initialised and a local folder as its default remote."""
    folder.mkdir(parents=True, exist_ok=True)
    run_tool(["git", "init", "--quiet", "--initial-branch=main"], folder)
    for key, value in IDENTITY.items():  # a commit needs a name; Binder has none
        if not _git_config(folder, key):
            run_tool(["git", "config", key, value], folder)
    run_tool(["dvc", "init", "--quiet"], folder)
    run_tool(["dvc", "config", "core.analytics", "false"], folder)
    remote.mkdir(parents=True, exist_ok=True)
    run_tool(["dvc", "remote", "add", "--default", "storage", str(remote.resolve())], folder)
    run_tool(["git", "add", ".dvc/config"], folder)  # dvc init staged the rest
    run_tool(["git", "commit", "--quiet", "-m", "DVC, with a local remote"], folder)
    return folder


def _git_config(folder: Path, key: str) -> str:
    done = subprocess.run(["git", "config", key], cwd=folder, capture_output=True, text=True)
    return done.stdout.strip()


def copy_raw_files(source: Path, target: Path) -> Path:
    """The four Fashion-MNIST files of ``source`` (a data root) into ``target``, same layout."""
    from reproml.base.paths import RAW_FILES, raw_folder

    raw = raw_folder(target)
    raw.mkdir(parents=True, exist_ok=True)
    for name in RAW_FILES:
        shutil.copyfile(raw_folder(source) / name, raw / name)
    return target


def relabel(root: Path, count: int, seed: int) -> list[int]:
    """A colleague's "label fixes": ``count`` training labels changed, at positions drawn with
    ``seed``. Returns the positions."""
    from reproml.base.paths import raw_folder

    path = raw_folder(root) / "train-labels-idx1-ubyte"
    raw = bytearray(path.read_bytes())
    rng = random.Random(seed)
    positions = sorted(rng.sample(range(len(raw) - LABELS_HEADER), count))
    for position in positions:
        at = LABELS_HEADER + position
        raw[at] = (raw[at] + rng.randint(1, 9)) % 10
    path.write_bytes(bytes(raw))
    return positions


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path: what a version's data is."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
