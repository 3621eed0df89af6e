"""``reproml-course build``: the student notebooks, generated from the solutions.

nbgrader's ``ClearSolutions`` replaces each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
region with a stub; the text after ``BEGIN SOLUTION`` on the marker line becomes the stub's
one-line instruction. In Python the stub raises NotImplementedError; in a cell that writes a
YAML file (``%%writefile conf/x.yaml``) it is a comment, so the file stays valid YAML.
Outputs are cleared, everything else is kept as written. Each student notebook also gets its
Colab and Binder badges and the Colab setup cell (``course/launch.py``), and the README's
chapter table is regenerated with the same links.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import ClearOutputPreprocessor
from nbformat import NotebookNode

from reproml.base.errors import ReproMLError
from reproml_course.authoring.launch import (
    GitHubRepository,
    add_launch_cells,
    readme_blocks,
    update_readme,
)
from reproml_course.base.notebooks import (
    list_notebooks,
    notebook_text,
    read_notebook,
    tidy_metadata,
)

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
# The stub keeps nbgrader's own marker, "# YOUR CODE HERE", in every language (the checks and
# nbgrader's users know it); the instruction after it is in the notebook's language.
DEFAULT_INSTRUCTION = {
    "en": "write your code here, then run the check cell below",
    "fr": "écrivez votre code ici, puis exécutez la cellule de vérification ci-dessous",
}
_PLACEHOLDER = "__REPROML_INSTRUCTION__"
PYTHON_STUB = f"# YOUR CODE HERE\nraise NotImplementedError({_PLACEHOLDER})"
YAML_STUB = f"# YOUR CODE HERE: {_PLACEHOLDER}"  # a file that is written stays valid YAML


def _clear_solutions(language: str = "en"):
    """nbgrader's preprocessor, configured for notebooks that carry no nbgrader metadata."""
    try:
        from nbgrader.preprocessors import ClearSolutions
    except ImportError:
        raise ReproMLError(
            "Building student notebooks needs nbgrader, which the dev tools include: run "
            "`uv sync` (or `pip install nbgrader`)."
        ) from None
    default_instruction = DEFAULT_INSTRUCTION[language]

    class ClearSolutionsWithInstructions(ClearSolutions):
        def _replace_solution_region(self, cell: NotebookNode, language: str) -> bool:
            instructions = [
                line.split("BEGIN SOLUTION", 1)[1].strip(" :-") or default_instruction
                for line in cell.source.split("\n")
                if "BEGIN SOLUTION" in line
            ]
            yaml = _writes_yaml(cell.source)
            self.code_stub = {language: YAML_STUB if yaml else PYTHON_STUB}
            replaced = super()._replace_solution_region(cell, language)
            for text in instructions:
                quoted = text if yaml else json.dumps(text, ensure_ascii=False)
                cell.source = cell.source.replace(_PLACEHOLDER, quoted, 1)
            return replaced

    return ClearSolutionsWithInstructions(
        enforce_metadata=False,
        begin_solution_delimeter=BEGIN,
        end_solution_delimeter=END,
        code_stub={"python": PYTHON_STUB},
    )


def _writes_yaml(source: str) -> bool:
    """A ``%%writefile something.yaml`` cell: its stub must be YAML (a comment), not Python."""
    first = source.split("\n", 1)[0].strip()
    return first.startswith("%%writefile") and first.endswith((".yaml", ".yml"))


def build_student_notebook(
    solution: NotebookNode,
    path: str | None = None,
    repository: GitHubRepository | None = None,
    language: str = "en",
) -> NotebookNode:
    """The student version; with ``path`` (where it lives in ``repository``), its launch cells."""
    nb = copy.deepcopy(solution)
    try:
        nb, _ = _clear_solutions(language).preprocess(nb, {})
    except RuntimeError as error:  # nbgrader's message for unbalanced markers
        raise ReproMLError(f"Cannot build: {error} (check the {BEGIN}/{END} pairs).") from None
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    if path is not None:
        add_launch_cells(nb, path, repository or GitHubRepository.current(), language)
    return tidy_metadata(nb)


@dataclass
class BuildReport:
    written: list[Path] = field(default_factory=list)
    out_of_date: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # student notebooks with no solution

    @property
    def up_to_date(self) -> bool:
        return not self.out_of_date and not self.stale


def build_course(
    solutions: Path,
    notebooks: Path,
    check: bool = False,
    repository: GitHubRepository | None = None,
    readme: Path | None = None,
) -> BuildReport:
    """Write (or, with ``check``, only compare) ``notebooks/`` from ``solutions/``, and the
    chapter table of ``readme`` when given.

    The badges point to ``notebooks/NAME`` in ``repository`` (default: the project's URL).
    """
    sources = list_notebooks(solutions)
    if not sources:
        raise ReproMLError(f"No notebooks in {solutions}: nothing to build from.")
    repository = repository or GitHubRepository.current()
    report = BuildReport()
    expected: dict[Path, str] = {}
    titles = {}
    for source in sources:
        solution = read_notebook(source)
        titles[source.name] = notebook_title(solution)
        student = build_student_notebook(solution, f"notebooks/{source.name}", repository)
        expected[notebooks / source.name] = notebook_text(student)
    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        expected[readme] = update_readme(text, readme_blocks(titles, repository))
    report.written, report.out_of_date = write_or_compare(expected, check)
    report.stale = (
        [p for p in list_notebooks(notebooks) if p not in expected] if (notebooks.is_dir()) else []
    )
    return report


def write_or_compare(expected: dict[Path, str], check: bool) -> tuple[list[Path], list[Path]]:
    """Write each file whose text differs from ``expected`` (its folder made if need be), or,
    with ``check``, write nothing: (written, out of date)."""
    written, out_of_date = [], []
    for target, text in expected.items():
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        if check:
            out_of_date.append(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written, out_of_date


def notebook_title(nb: NotebookNode) -> str:
    """The text of the notebook's first heading (``00 · Setup and data``)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""
