"""``binder/``: what mybinder.org's repo2docker builds, generated from ``uv.lock``.

repo2docker installs ``binder/requirements.txt`` with pip (it has no uv support), so that file is
``uv export`` of the locked runtime and ``lab`` packages, with two changes: torch and
torchvision become their CPU builds of the same versions (``+cpu``, from PyTorch's CPU index),
and the CUDA libraries the GPU builds depend on are left out. Those are several GB, and Binder
has no GPU and 2 GB of memory. ``binder/postBuild`` (written by hand) then installs the package
itself and downloads the data into the image.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from packaging.requirements import Requirement

from reproml.base.errors import ReproMLError
from reproml_course.chapters.uv_projects import uv_executable

PYTHON = "3.11"  # mybinder's repo2docker has a ready environment for it
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_BUILDS = ("torch", "torchvision")
CUDA_LIBRARIES = re.compile(r"^(nvidia-.*|cuda-.*|triton)$")
EXPORT = [
    "export", "--frozen", "--format", "requirements-txt", "--no-hashes", "--no-annotate",
    "--no-header", "--no-emit-project", "--no-default-groups", "--group", "lab", "--group", "dvc",
]  # fmt: skip
HEADER = f"""\
# Generated from uv.lock by `uv run reproml-course binder`: do not edit (CI checks it).
# The locked versions, with the CPU builds of torch and torchvision for mybinder.org.
--extra-index-url {CPU_INDEX}
"""


def export_lock(root: Path) -> str:
    """The locked runtime and ``lab`` packages as a pip requirements file."""
    done = subprocess.run(
        [uv_executable(), *EXPORT], cwd=root, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ReproMLError(f"uv export failed: {done.stderr.strip().splitlines()[-1]}")
    return done.stdout


def binder_requirements(exported: str) -> str:
    """``binder/requirements.txt`` from ``uv export``'s output."""
    lines = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if CUDA_LIBRARIES.match(requirement.name):
            continue
        if requirement.name in CPU_BUILDS:
            (spec,) = requirement.specifier
            marker = f" ; {requirement.marker}" if requirement.marker else ""
            line = f"{requirement.name}=={spec.version}+cpu{marker}"
        lines.append(line)
    return HEADER + "\n".join(lines) + "\n"


def binder_files(root: Path) -> dict[Path, str]:
    """The generated files of ``binder/`` and their expected text."""
    binder = root / "binder"
    return {
        binder / "requirements.txt": binder_requirements(export_lock(root)),
        binder / "runtime.txt": f"python-{PYTHON}\n",
    }


def write_binder(root: Path, check: bool = False) -> list[Path]:
    """Write the generated files (or, with ``check``, only compare); return those that differ."""
    differ = []
    for path, text in binder_files(root).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        differ.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return differ
