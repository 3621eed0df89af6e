"""What both of chapter 08's checks build on: the course's package folder, which uv reads
with no network, and the reference lock of a requirement list, made by real uv in a project of
the check's own, with the versions each lock holds."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

from reproml.base.env import environment, path_with_first
from reproml_course.chapters.uv_projects import (
    package_folder_environment,
    run_uv,
    uv_executable,
    write_demo_packages,
)

INIT = ("init", "--app", "--no-package", "--no-workspace")


@contextlib.contextmanager
def package_folder(tmp: Path) -> Iterator[Path]:
    """The course's packages in ``tmp``, and uv pointed at them (for the student's code too)."""
    packages = write_demo_packages(tmp / "packages")
    uv_first = path_with_first(str(Path(uv_executable()).parent))
    values = {**package_folder_environment(packages), "VIRTUAL_ENV": None, "PATH": uv_first}
    with environment(values):
        yield packages


def locked_versions(lock_text: str) -> dict[str, str]:
    """name -> version of each package a uv.lock pins (the project itself included)."""
    return {p["name"]: p["version"] for p in tomllib.loads(lock_text).get("package", [])}


def reference_lock(tmp: Path, requirements: list[str], name: str = "reference") -> str:
    project = tmp / name
    run_uv(*INIT, str(project), cwd=tmp)
    run_uv("add", "--no-sync", *requirements, cwd=project)
    return (project / "uv.lock").read_text()
