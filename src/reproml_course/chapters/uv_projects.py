"""Chapter 08's small uv projects: a package folder that needs no network, and uv itself.

The chapter's projects install from a folder of tiny wheels the course writes (``reproml-demo-*``
packages, several versions, one dependency behind a platform marker), never from PyPI: the
chapter then runs offline, the same on every machine, and nobody's upload to PyPI can stand in
for one of ours (uv is told to use no index at all, only the folder). The wheels are written
byte for byte the same each time, so their hashes in a lock do not change between executions.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from reproml.base.env import path_with_first
from reproml.base.errors import ReproMLError

# name -> version -> its dependencies (PEP 508 lines). Enough to show a transitive dependency,
# a marker, an upgrade that drags another package along, and an addition and a removal.
DEMO_PACKAGES: dict[str, dict[str, list[str]]] = {
    "reproml-demo-colors": {"1.0.0": [], "1.1.0": [], "1.2.0": []},
    "reproml-demo-console": {"1.0.0": []},
    "reproml-demo-greetings": {
        "1.0.0": ["reproml-demo-colors>=1.0"],
        "1.1.0": ["reproml-demo-colors>=1.0", "reproml-demo-console; sys_platform == 'win32'"],
        "2.0.0": ["reproml-demo-colors>=1.1", "reproml-demo-console; sys_platform == 'win32'"],
    },
    "reproml-demo-units": {"0.9.0": [], "1.0.0": []},
}
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed: the same bytes, the same hash, every time


def module_name(package: str) -> str:
    """``reproml-demo-greetings`` is imported as ``reproml_demo_greetings``."""
    return package.replace("-", "_")


def write_demo_packages(folder: Path) -> Path:
    """The course's package folder: one wheel per version of each ``DEMO_PACKAGES`` entry."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, versions in DEMO_PACKAGES.items():
        for version, requires in versions.items():
            _write_wheel(folder, name, version, requires)
    return folder


def _write_wheel(folder: Path, name: str, version: str, requires: list[str]) -> Path:
    module = module_name(name)
    info = f"{module}-{version}.dist-info"
    code = (
        f'"""{name} {version}: a package of the reproml course, for chapter 08."""\n\n'
        f'__version__ = "{version}"\n\n\n'
        f"def hello(who: str) -> str:\n"
        f'    return f"Hello {{who}}, from {name} {version}"\n'
    )
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {name}",
            f"Version: {version}",
            "Summary: A tiny package of the reproml course (chapter 08).",
            "Requires-Python: >=3.8",
            *(f"Requires-Dist: {line}" for line in requires),
        ]
    )
    files = {
        f"{module}/__init__.py": code,
        f"{info}/METADATA": metadata + "\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: reproml\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name_in_zip, text in files.items():
            wheel.writestr(zipfile.ZipInfo(name_in_zip, _ZIP_TIME), text)
    return path


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def uv_executable() -> str:
    """This environment's uv (a dependency of the course), else the one running us (``uv run``
    sets ``$UV``), else the one on the PATH."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file():
        return str(beside)
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    found = os.environ.get("UV") or shutil.which("uv")  # $UV: the uv that `uv run` is
    if found is None:
        raise ReproMLError("uv is not installed here: `pip install uv`, then try again.")
    return found


def package_folder_environment(packages: Path) -> dict[str, str]:
    """What uv reads from the environment to install from ``packages`` only, offline, with this
    Python (``UV_PYTHON``): no index, no interpreter download, no network at all."""
    return {
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(packages.resolve()),
        "UV_OFFLINE": "1",
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "NO_COLOR": "1",  # uv's output, read in a notebook: no terminal colour codes
    }


def use_package_folder(packages: Path) -> dict[str, str]:
    """Point every uv command of this process and its children at ``packages``; put this
    environment's uv first on the PATH; forget the course's own virtual environment, which a
    ``uv run`` of the course sets in ``VIRTUAL_ENV`` and which a student's project must not
    use. Returns the variables set."""
    settings = package_folder_environment(packages)
    os.environ.update(settings)
    os.environ.pop("VIRTUAL_ENV", None)
    os.environ["PATH"] = path_with_first(str(Path(uv_executable()).parent))
    return settings


def run_uv(*args: str, cwd: Path | None = None, timeout: float = 120) -> str:
    """``uv args...`` in ``cwd``; its output, or an error with uv's own last line."""
    done = subprocess.run(
        [uv_executable(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ReproMLError(f"`uv {' '.join(args)}` failed: {last}")
    return done.stdout + done.stderr


def lock_entries(lock_text: str) -> Iterator[str]:
    """The ``[[package]]`` blocks of a uv.lock, as text (for reading one of them)."""
    blocks = lock_text.split("\n[[package]]\n")
    for block in blocks[1:]:
        yield "[[package]]\n" + block.strip()


def lock_entry(lock_path: Path, name: str) -> str:
    """The block of ``name`` in the lock at ``lock_path``, as uv wrote it."""
    for block in lock_entries(lock_path.read_text()):
        if f'\nname = "{name}"\n' in block:
            return block
    raise ReproMLError(f"{name} is not in {lock_path}.")
