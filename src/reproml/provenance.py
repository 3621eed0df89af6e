"""Where a result came from: the code (git), the environment (lock file, versions), the data.

MLflow logs these as tags on every run; chapter 06 compares them between a run and its re-run.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from reproml.base.paths import repository_root

UNKNOWN = "unknown"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_state(root: Path | None = None) -> dict[str, str]:
    """The commit checked out, and whether tracked files differ from it ("dirty")."""
    root = root or repository_root()
    if root is None:
        return {"git_commit": UNKNOWN, "git_dirty": UNKNOWN}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": UNKNOWN, "git_dirty": UNKNOWN}
    return {"git_commit": commit, "git_dirty": str(dirty).lower()}


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return UNKNOWN


def environment_tags() -> dict[str, str]:
    """Code and environment of this process, as flat string tags."""
    root = repository_root()
    lock = root / "uv.lock" if root is not None else None
    return {
        **git_state(root),
        "uv_lock_sha256": file_sha256(lock) if lock is not None and lock.is_file() else UNKNOWN,
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "torchvision": package_version("torchvision"),
        "reproml": package_version("reproml"),
        "platform": platform.platform(),
    }
