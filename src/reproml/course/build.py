"""``reproml-course build``: the student notebooks, generated from the solutions.

nbgrader's ``ClearSolutions`` replaces each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
region with a stub; the text after ``BEGIN SOLUTION`` on the marker line becomes the stub's
one-line instruction. Outputs are cleared, everything else is kept as written.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import ClearOutputPreprocessor
from nbformat import NotebookNode

from reproml.course.notebooks import list_notebooks, notebook_text, read_notebook, tidy_metadata
from reproml.errors import ReproMLError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
DEFAULT_INSTRUCTION = "write your code here, then run the check cell below"
_PLACEHOLDER = "__REPROML_INSTRUCTION__"


def _clear_solutions():
    """nbgrader's preprocessor, configured for notebooks that carry no nbgrader metadata."""
    try:
        from nbgrader.preprocessors import ClearSolutions
    except ImportError:
        raise ReproMLError(
            "Building student notebooks needs nbgrader, which the dev tools include: run "
            "`uv sync` (or `pip install nbgrader`)."
        ) from None

    class ClearSolutionsWithInstructions(ClearSolutions):
        def _replace_solution_region(self, cell: NotebookNode, language: str) -> bool:
            instructions = [
                line.split("BEGIN SOLUTION", 1)[1].strip(" :-") or DEFAULT_INSTRUCTION
                for line in cell.source.split("\n")
                if "BEGIN SOLUTION" in line
            ]
            replaced = super()._replace_solution_region(cell, language)
            for text in instructions:
                cell.source = cell.source.replace(_PLACEHOLDER, json.dumps(text), 1)
            return replaced

    return ClearSolutionsWithInstructions(
        enforce_metadata=False,
        begin_solution_delimeter=BEGIN,
        end_solution_delimeter=END,
        code_stub={
            "python": f"# YOUR CODE HERE\nraise NotImplementedError({_PLACEHOLDER})",
        },
    )


def build_student_notebook(solution: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(solution)
    try:
        nb, _ = _clear_solutions().preprocess(nb, {})
    except RuntimeError as error:  # nbgrader's message for unbalanced markers
        raise ReproMLError(f"Cannot build: {error} (check the {BEGIN}/{END} pairs).") from None
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    return tidy_metadata(nb)


@dataclass
class BuildReport:
    written: list[Path] = field(default_factory=list)
    out_of_date: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # student notebooks with no solution

    @property
    def up_to_date(self) -> bool:
        return not self.out_of_date and not self.stale


def build_course(solutions: Path, notebooks: Path, check: bool = False) -> BuildReport:
    """Write (or, with ``check``, only compare) ``notebooks/`` from ``solutions/``."""
    sources = list_notebooks(solutions)
    if not sources:
        raise ReproMLError(f"No notebooks in {solutions}: nothing to build from.")
    report = BuildReport()
    expected = {}
    for source in sources:
        expected[source.name] = notebook_text(build_student_notebook(read_notebook(source)))
    if not check:
        notebooks.mkdir(parents=True, exist_ok=True)
    for name, text in expected.items():
        target = notebooks / name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        if check:
            report.out_of_date.append(target)
        else:
            target.write_text(text, encoding="utf-8")
            report.written.append(target)
    report.stale = (
        [p for p in list_notebooks(notebooks) if p.name not in expected]
        if (notebooks.is_dir())
        else []
    )
    return report
