"""The code of the solution notebooks' cells, for checks tests that mutate the right answer."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def writefile_cells(notebook: str) -> list[tuple[str, str]]:
    """(target as written after %%writefile, file content) of each such cell, in order."""
    nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
    cells = []
    for cell in nb.cells:
        first, _, body = cell.source.partition("\n")
        if cell.cell_type == "code" and first.startswith("%%writefile"):
            cells.append((first.split(maxsplit=1)[1], _without_markers(body) + "\n"))
    return cells


def _without_markers(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not re.match(r"\s*### (BEGIN|END) SOLUTION", line)
    )


def mutate(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced once; the test fails loudly if the solution changed."""
    assert old in text, f"the solution no longer contains {old!r}"
    return text.replace(old, new, 1)


def code_cell(notebook: str, contains: str) -> str:
    """The code of the solution cell that contains ``contains`` (markers removed)."""
    nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
    (source,) = [c.source for c in nb.cells if c.cell_type == "code" and contains in c.source]
    return _without_markers(source) + "\n"


def define(code: str, name: str, namespace: dict | None = None):
    """Run a cell's code and return the function it defines (what the notebook would)."""
    namespace = dict(namespace or {})
    exec(compile(code, f"<{name}>", "exec"), namespace)  # our own solution's code
    return namespace[name]
