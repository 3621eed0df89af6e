"""Chapter 10's data versions with DVC: a project of the student's own, a change of the data
to version, and the DVC version of the data a run read, which the MLflow tracker records.

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

from reproml.errors import ReproMLError
from reproml.logs import path_with_first

QUIET = {"DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0"}
IDENTITY = {"user.name": "reproml student", "user.email": "student@reproml.invalid"}
LABELS_HEADER = 8  # an IDX labels file: magic number and count, then one byte per label


def dvc_executable() -> str | None:
    """This environment's ``dvc``, else the one on the PATH, else None."""
    beside = Path(sys.executable).with_name("dvc")
    return str(beside) if beside.is_file() else shutil.which("dvc")


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

    from reproml.paths import course_lock

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
    from reproml.paths import RAW_FILES, raw_folder

    raw = raw_folder(target)
    raw.mkdir(parents=True, exist_ok=True)
    for name in RAW_FILES:
        shutil.copyfile(raw_folder(source) / name, raw / name)
    return target


def relabel(root: Path, count: int, seed: int) -> list[int]:
    """A colleague's "label fixes": ``count`` training labels changed, at positions drawn with
    ``seed``. Returns the positions."""
    from reproml.paths import raw_folder

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
