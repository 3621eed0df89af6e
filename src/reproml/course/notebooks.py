"""Reading, writing and finding the course's notebooks."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from reproml.notebook import QUICK_ENV
from reproml.paths import repository_root

# The cell that checks exercise 1.2 starts with ``checks.exercise_1_2(``.
CHECK_CALL = re.compile(r"^\s*checks\.exercise_(\d+)_(\d+)\(", re.MULTILINE)
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def course_dir(name: str) -> Path:
    """``solutions/`` or ``notebooks/`` at the repository root (or under the working directory)."""
    return (repository_root() or Path.cwd()) / name


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
            for chapter, number in CHECK_CALL.findall(cell.source):
                found.setdefault(f"{chapter}.{number}", index)
    return found


def tidy_metadata(nb: NotebookNode) -> NotebookNode:
    """Drop what says who ran it where (kernel names, paths, timings): diffs stay readable."""
    language = nb.metadata.get("language_info", {})
    nb.metadata = NotebookNode(
        kernelspec=NotebookNode(KERNELSPEC),
        language_info=NotebookNode(name="python", **{"version": language["version"]})
        if "version" in language
        else NotebookNode(name="python"),
    )
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = NotebookNode(tags=tags) if tags else NotebookNode()
    return nb


@contextlib.contextmanager
def kernel_environment(quick: bool) -> Iterator[None]:
    """A kernel inherits its parent's environment: set quick mode for it, restore it after."""
    saved = os.environ.get(QUICK_ENV)
    os.environ[QUICK_ENV] = "1" if quick else "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(QUICK_ENV, None)
        else:
            os.environ[QUICK_ENV] = saved
