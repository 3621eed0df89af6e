"""Reading, writing and finding the course's notebooks."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import nbformat
from nbformat import NotebookNode

from reproml_course.base.paths import LANGUAGE_ENV, QUICK_ENV, QUIET_KERNEL

if TYPE_CHECKING:
    from nbclient import NotebookClient

# The cell that checks exercise 1.2 starts with ``checks.exercise_1_2(``.
# checks.exercise_1_2(...) checks exercise "1.2"; checks.quiz("3.Q1", ...) a quiz question.
CHECK_CALL = re.compile(
    r"""^\s*checks\.(?:exercise_(\d+)_(\d+)\(|quiz\(\s*["'](\d+)\.(Q\d+)["'])""", re.MULTILINE
)
T = TypeVar("T")
Item = TypeVar("Item")  # a notebook, or a notebook with what to call it
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def read_notebook(path: str | Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def notebook_text(nb: NotebookNode) -> str:
    """The exact text ``write_notebook`` puts on disk, for comparing without writing."""
    return nbformat.writes(nb) + "\n"


def write_notebook(nb: NotebookNode, path: str | Path) -> None:
    Path(path).write_text(notebook_text(nb), encoding="utf-8")


def list_notebooks(path: str | Path) -> list[Path]:
    """One notebook, or the notebooks of a folder in name order (checkpoints skipped)."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def check_cells(nb: NotebookNode) -> dict[str, int]:
    """Exercise id ("1.2") -> index of the code cell that checks it, in notebook order."""
    found: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for chapter, number, quiz_chapter, question in CHECK_CALL.findall(cell.source):
                id = f"{chapter}.{number}" if chapter else f"{quiz_chapter}.{question}"
                found.setdefault(id, index)
    return found


# What ipykernel reports and JupyterLab writes into a notebook it opens: committed notebooks
# carry it all, so that opening one changes nothing (and runs are not tagged git_dirty).
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def tidy_metadata(nb: NotebookNode) -> NotebookNode:
    """Drop what says who ran it where (kernel names, paths, timings): diffs stay readable.
    The Python version the solutions were executed with stays (JupyterLab writes it too), and
    the course's own entry (``reproml.language``: the language a student reads)."""
    language = nb.metadata.get("language_info", {})
    version = {"version": language["version"]} if "version" in language else {}
    course = nb.metadata.get("reproml")
    nb.metadata = NotebookNode(
        kernelspec=NotebookNode(KERNELSPEC),
        language_info=nbformat.from_dict({**LANGUAGE_INFO, **version}),
    )
    if course:
        nb.metadata["reproml"] = nbformat.from_dict(course)
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = NotebookNode(tags=tags) if tags else NotebookNode()
    return nb


def notebook_language(nb: NotebookNode) -> str:
    """The language a notebook is written in (its translation's metadata), ``en`` by default."""
    return nb.metadata.get("reproml", {}).get("language", "en")


def kernel_environment(
    quick: bool, language: str = "en", notebook: Path | None = None
) -> dict[str, str]:
    """This process's environment with quick mode set, for a kernel to start with; the checks
    speak ``language`` unless ``$REPROML_LANG`` says otherwise; ``notebook`` is named to the
    kernel as Jupyter's server does (``$JPY_SESSION_NAME``: a run's source in MLflow).

    Passed to the kernel rather than set in ``os.environ``, so notebooks can run in threads.
    This Python's folder comes first on the PATH, as in ``uv run jupyter lab``: a notebook's
    ``!python script.py`` and ``!reproml-train`` run the course's environment.
    """
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, QUICK_ENV: "1" if quick else "0"}
    env.setdefault(LANGUAGE_ENV, language)
    if notebook is not None:
        env["JPY_SESSION_NAME"] = str(notebook.resolve())
    return env


def notebook_client(nb: NotebookNode, path: Path, timeout: int, **options: Any) -> NotebookClient:
    """A client that runs ``nb`` in a fresh python3 kernel, in the folder of ``path`` (where the
    notebook lives, so its relative paths work), with the kernel's start-up chatter off."""
    from nbclient import NotebookClient

    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=QUIET_KERNEL,
        resources={"metadata": {"path": str(Path(path).parent.resolve())}},
        **options,
    )


def in_parallel(
    work: Callable[[Item], T], notebooks: Sequence[Item], jobs: int = 1, desc: str = ""
) -> list[T]:
    """``work`` on each notebook, ``jobs`` at a time (each has its own kernel process, so
    threads are enough), with a progress bar; results in the order of ``notebooks``.

    The kernels share this process's CPUs (``OMP_NUM_THREADS``, reproml.base.threads): two kernels
    that each took every core would make each other's training several times slower."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from reproml.base.env import environment
    from reproml.base.threads import shared_threads_env

    with (
        environment(shared_threads_env(jobs) if jobs > 1 else {}),  # one: nothing to share
        ThreadPoolExecutor(max(1, jobs)) as pool,
        tqdm(total=len(notebooks), desc=desc, unit="notebook", disable=len(notebooks) < 2) as bar,
    ):
        futures = [pool.submit(work, notebook) for notebook in notebooks]
        for future in futures:
            future.add_done_callback(lambda _: bar.update())
        return [future.result() for future in futures]
