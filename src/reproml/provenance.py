"""Where a result came from: the code (git), the environment (lock file, versions), the data.

MLflow logs these as tags on every run; chapter 06 compares them between a run and its re-run.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, PathDistribution, version
from pathlib import Path

from reproml.base.paths import repository_root

UNKNOWN = "unknown"
LOCKED = "uv.lock"  # the environment tag of a run whose installed packages are the lock's
NOT_LOCKED = "not this environment"  # uv_lock_sha256 where they are not (Colab, pip)
INSTALLED_ARTIFACT = "environment/installed.txt"


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


def installed_packages() -> dict[str, str]:
    """Every distribution this Python sees, by normalised name: what ``pip freeze`` lists.

    Read from the ``name-version.dist-info`` folders' names, as ``importlib.metadata`` finds
    distributions, not from their METADATA files (a quarter of a second for the 300 of the
    course's environment, at every tracked run); a folder named otherwise is read in full.
    Not the copies a package vendors: ``import setuptools`` puts ``setuptools/_vendor`` on
    ``sys.path``, whose jaraco, tomli, wheel... were then listed as installed packages."""
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        if "_vendor" in folder.parts or not folder.is_dir():
            continue
        try:
            children = sorted(folder.iterdir())
        except OSError:  # unreadable: importlib.metadata skips it too
            continue
        for child in children:
            if child.suffix not in (".dist-info", ".egg-info"):
                continue
            name, _, installed = child.stem.rpartition("-")
            if child.suffix == ".egg-info" or not name or not installed:
                metadata = PathDistribution(child).metadata
                name, installed = metadata["Name"], metadata["Version"]
            if name and installed:
                found.setdefault(normalized_name(name), installed)
    return dict(sorted(found.items()))


def normalized_name(name: str) -> str:
    """PEP 503's form: ``Jinja2`` -> ``jinja2``, ``typing_extensions`` -> ``typing-extensions``."""
    return re.sub(r"[-_.]+", "-", name).lower()


# A package's table in uv.lock begins with its name, then its version when it has one.
_LOCKED_PACKAGE = re.compile(
    r'^\[\[package\]\]\nname = "([^"]+)"\n(?:version = "([^"]+)")?', re.MULTILINE
)


def locked_versions(lock: Path) -> dict[str, set[str]]:
    """Each package of a uv.lock and its versions (several where markers split it), from the
    lines uv writes first in each ``[[package]]`` table; the whole TOML is parsed (a fifth of
    a second) only where they do not account for every table."""
    text = lock.read_text(encoding="utf-8")
    found = _LOCKED_PACKAGE.findall(text)
    if len(found) != text.count("[[package]]"):
        packages = tomllib.loads(text).get("package", [])
        found = [(p["name"], p.get("version")) for p in packages]
    pinned: dict[str, set[str]] = {}
    for name, locked in found:
        pinned.setdefault(normalized_name(name), set()).add(str(locked or None))
    return pinned


@functools.cache
def lock_differences(lock: Path) -> tuple[str, ...]:
    """The installed packages the lock does not pin at that version ("numpy 2.0.2 (uv.lock:
    2.5.5)", "pandas-gbq 0.29.1 (not in uv.lock)"): none where ``uv sync`` made the
    environment. Read once per process."""
    pinned = locked_versions(lock)
    differences = []
    for name, installed in installed_packages().items():
        if name not in pinned:
            differences.append(f"{name} {installed} (not in uv.lock)")
        elif installed not in pinned[name]:
            differences.append(f"{name} {installed} (uv.lock: {', '.join(sorted(pinned[name]))})")
    return tuple(differences)


def lock_tags(lock: Path | None) -> dict[str, str]:
    """``uv_lock_sha256`` is the lock's digest only where the installed packages are the
    lock's; elsewhere the ``environment`` tag says how many differ and which, and the run
    keeps the list of what was installed (INSTALLED_ARTIFACT)."""
    if lock is None or not lock.is_file():
        return {"uv_lock_sha256": UNKNOWN, "environment": "no uv.lock"}
    differences = lock_differences(lock)
    if not differences:
        return {"uv_lock_sha256": file_sha256(lock), "environment": LOCKED}
    shown = "; ".join(differences[:8]) + ("; ..." if len(differences) > 8 else "")
    summary = f"{len(differences)} installed packages differ from uv.lock: {shown}"
    return {"uv_lock_sha256": NOT_LOCKED, "environment": summary}


def environment_tags() -> dict[str, str]:
    """Code and environment of this process, as flat string tags."""
    root = repository_root()
    return {
        **git_state(root),
        **lock_tags(root / "uv.lock" if root is not None else None),
        "python": platform.python_version(),
        "torch": package_version("torch"),
        "torchvision": package_version("torchvision"),
        "reproml": package_version("reproml"),
        "platform": platform.platform(),
    }
