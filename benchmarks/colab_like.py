"""Colab as it is: each chapter run in a plain pip environment that its own first cell sets up.

    uv run python benchmarks/colab_like.py [--venv /tmp/colab] [--home /content/reproml] \\
        [--full-size] [NOTEBOOK ...]

Colab has no uv and no lock: a Python with Colab's own torch, numpy, pandas, matplotlib and
ipykernel already installed (``COLAB_PACKAGES``, from Colab's published ``pip-freeze.txt``), and
each student notebook's first cell
(``reproml_course.authoring.launch.colab_setup_source``) clones the
course into ``/content/reproml``, ``pip install --editable``s it (keeping Colab's torch) and
fetches the data. This makes that environment: a venv with ``COLAB_PACKAGES`` installed by pip
(made once, reused), the course cloned from this checkout's last commit into ``--home``, the
data placed in its ``data/`` (the cell's download is the one step not exercised: nothing
downloads here), and a kernel that has ``google.colab`` imported, as Colab's has. Then it runs
each solution with the Colab cell put first, as a student's finished notebook would be, in full
mode, from ``/content``, with nothing of this machine's environment (no ``REPROML_*``, no
thread count, no virtualenv). The table gives the time of the setup cell apart: the first
notebook pays for pip installing the course's requirements, the others find them installed
(on Colab each chapter is a new runtime, which pays that again).

Where Colab differs and this cannot follow: its Python is 3.12 (this uses the machine's
Python, 3.11 here: nothing downloads a Python), and its machine has 2 vCPUs and 12.7 GB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from course_time import Measurement, MemoryWatch, run_measured, table

from reproml_course.authoring.launch import GitHubRepository, add_launch_cells, colab_setup_source
from reproml_course.base.notebooks import QUIET_KERNEL, list_notebooks
from reproml_course.base.paths import course_dir, repository_root

# Colab's runtime in 2025 (googlecolab/backend-info, pip-freeze.txt), as tests/course/
# test_launch.py's COLAB_VERSIONS; nbclient and psutil are what this script drives it with.
COLAB_PACKAGES = [
    "torch==2.9.1",
    "torchvision==0.24.1",
    "numpy==2.0.2",
    "pandas==2.2.2",
    "matplotlib==3.10.0",
    "ipykernel==6.17.1",
    "ipywidgets==7.7.1",
    "tqdm==4.67.1",
    "setuptools",
    "nbclient",
]
KERNEL = "colab-like"
# What Colab's kernel has and a plain one has not: the module the setup cell looks for.
IMPORT_COLAB = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')"


def make_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *COLAB_PACKAGES], check=True)
    return python


def place_course(home: Path, data: Path) -> None:
    """The course at ``home`` (this checkout's last commit, as Colab's ``git clone`` gets the
    branch's), with the data where the setup cell's download would put it."""
    if not home.exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", str(repository_root()), str(home)], check=True)
    target = home / "data" / "FashionMNIST"
    if not target.exists():
        shutil.copytree(data / "FashionMNIST", target)


def kernel_folder(python: Path) -> Path:
    """A Jupyter data folder holding the colab-like kernel: the venv's Python, its ``bin`` first
    on the PATH (Colab's ``/usr/local/bin``, where pip puts ``reproml-train``)."""
    folder = Path(tempfile.mkdtemp(prefix="colab-kernel-"))
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv += [f"--IPKernelApp.exec_lines={IMPORT_COLAB}", *QUIET_KERNEL]
    env = {"PATH": f"{python.parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin"}
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python", "env": env})
    )
    return folder


def colab_environment() -> dict[str, str]:
    """What a Colab kernel starts with: none of this machine's course settings."""
    keep = {"HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "JUPYTER_PATH"}
    return {key: value for key, value in os.environ.items() if key in keep}


def run_as_colab(path: Path, home: Path) -> tuple[Measurement, float]:
    from nbclient import NotebookClient

    nb = add_launch_cells(
        nbformat.read(path, as_version=4), f"notebooks/{path.name}", GitHubRepository.current()
    )
    setup = next(c for c in nb.cells if c.cell_type == "code")
    setup.source = colab_setup_source(f"file://{repository_root()}", home=str(home))
    result, watches = Measurement(path.name, "colab"), []

    def watch_kernel(**_: object) -> None:
        watches.append(MemoryWatch(client.km.provisioner.process.pid))

    client = NotebookClient(
        nb,
        timeout=3600,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(home.parent)}},  # Colab starts in /content
        on_notebook_start=watch_kernel,
    )
    run_measured(client, colab_environment(), result, watches)
    timing = setup.metadata.get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    setup_seconds = _seconds_between(began, ended) if began and ended else float("nan")
    return result, setup_seconds


def _seconds_between(began: str, ended: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solution")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "colab-venv")
    parser.add_argument("--home", type=Path, default=Path("/content/reproml"))
    parser.add_argument(
        "--full-size", action="store_true", help="a synthetic set of 60,000 + 10,000 images"
    )
    args = parser.parse_args()
    if args.full_size:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from synthetic_data import write_fashion_mnist

        data = Path(tempfile.mkdtemp(prefix="fashion-mnist-full-size-"))
        write_fashion_mnist(data, n_train=60_000, n_test=10_000, signal=0.2)
    else:
        data = Path(os.environ.get("REPROML_DATA_DIR", Path(__file__).parents[2] / "shared/data"))
    python = make_venv(args.venv)
    place_course(args.home, data)
    os.environ["JUPYTER_PATH"] = str(kernel_folder(python))
    versions = subprocess.run(
        [str(python), "-c", "import sys, torch; print(sys.version.split()[0], torch.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; Python {versions[0]}, "
        f"torch {versions[1]} (pip); course at {args.home}, data: {data}"
    )
    paths = [p for a in (args.notebooks or [course_dir("solutions")]) for p in list_notebooks(a)]
    results, setups = [], []
    start = time.perf_counter()
    for path in paths:
        result, setup_seconds = run_as_colab(path, args.home)
        print(f"{path.name}: {result.seconds:.0f} s (setup cell {setup_seconds:.0f} s) "
              f"{result.error or 'ok'}", flush=True)  # fmt: skip
        results.append(result)
        setups.append(setup_seconds)
    print(table(results, {"colab": time.perf_counter() - start}))
    print("\nsetup cell, seconds: " + ", ".join(f"{s:.0f}" for s in setups))
    with contextlib.suppress(OSError):
        shutil.rmtree(os.environ["JUPYTER_PATH"])


if __name__ == "__main__":
    main()
