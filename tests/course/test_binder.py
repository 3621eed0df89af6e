"""binder/: pinned to uv.lock with CPU torch, checked against the lock itself."""

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from reproml.base.paths import repository_root
from reproml_course.authoring.binder import CPU_INDEX, PYTHON, binder_requirements

ROOT = repository_root()
BINDER = ROOT / "binder"
# The environment mybinder.org builds: Linux, x86_64, the Python of runtime.txt.
BINDER_MARKERS = {
    "python_version": PYTHON,
    "python_full_version": f"{PYTHON}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def locked_versions() -> dict[str, set[str]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], set()).add(package.get("version", ""))
    return versions


def binder_pins() -> dict[str, str]:
    """name -> pinned version, for the requirements that apply on Binder."""
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        if line.startswith(("#", "-")) or not line.strip():
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(BINDER_MARKERS):
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name] = spec.version
    return pins


def test_binder_pins_the_locked_versions_with_cpu_torch():
    locked, pins = locked_versions(), binder_pins()
    for name, version in pins.items():
        plain = version.removesuffix("+cpu")
        assert plain in locked.get(name, set()), f"{name}=={version} is not what uv.lock has"
    assert pins["torch"].endswith("+cpu") and pins["torchvision"].endswith("+cpu")
    assert not [name for name in pins if re.match(r"nvidia-|cuda-|triton$", name)]
    assert f"--extra-index-url {CPU_INDEX}" in (BINDER / "requirements.txt").read_text()


def test_binder_has_every_runtime_and_lab_requirement():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    groups = project["dependency-groups"]
    wanted = [*project["project"]["dependencies"], *groups["lab"], *groups["dvc"]]
    pins = binder_pins()
    for line in wanted:
        requirement = Requirement(line)
        assert requirement.name in pins, f"{requirement.name} is missing from binder/"
        version = Version(pins[requirement.name])
        assert requirement.specifier.contains(version, prereleases=True), (line, version)
    assert "nbgrader" not in pins and "pytest" not in pins  # instructors' and developers' tools


def test_runtime_and_postbuild():
    assert (BINDER / "runtime.txt").read_text() == f"python-{PYTHON}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert Version(f"{PYTHON}.0") in Requirement(f"python{project['requires-python']}").specifier
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-cache-dir --no-deps --editable ." in post_build.read_text()


def test_cuda_libraries_are_dropped_and_markers_kept():
    exported = (
        "filelock==3.20.0\n"
        "nvidia-cublas==13.4.1.3 ; sys_platform == 'linux'\n"
        "cuda-bindings==13.5.0 ; sys_platform == 'linux'\n"
        "triton==3.6.0 ; sys_platform == 'linux'\n"
        "torch==2.15.0\n"
        "torchvision==0.29.2 ; python_full_version >= '3.11'\n"
    )
    lines = binder_requirements(exported).splitlines()
    assert lines[-3:] == [
        "filelock==3.20.0",
        "torch==2.15.0+cpu",
        'torchvision==0.29.2+cpu ; python_full_version >= "3.11"',
    ]


@pytest.mark.skipif(
    not (os.environ.get("UV") or shutil.which("uv")), reason="needs uv (run with `uv run`)"
)
def test_the_committed_binder_files_match_the_lock():
    done = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "binder", "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
