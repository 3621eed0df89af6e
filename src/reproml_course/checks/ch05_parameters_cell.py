"""Exercise 5.1's parameters cell: the report the student's ``tag_defaults`` tagged must
have one code cell tagged ``parameters``, holding only the default values (literals), not the
Colab install cell the student notebooks start with; copies of the report laid out otherwise
(with or without that Colab cell, two cells added before the defaults) must get the tag on their
defaults cell, and nothing else must change."""

from __future__ import annotations

import ast
import contextlib
import json
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, expect

# The defaults cell of chapter 05's report (a copy of experiment.ipynb): what papermill sets.
REPORT_PARAMETERS = (
    "model", "optimizer", "lr", "epochs", "seed", "quick", "experiment", "run_id", "tracking_uri",
)  # fmt: skip
COLAB_TAG = "colab"  # the build's tag on the Colab install cell of each student notebook


def _parameters_cells(nb) -> list:
    return [c for c in nb.cells if "parameters" in _tags(c)]


def _tags(cell) -> list:
    tags = cell.metadata.get("tags", [])
    return list(tags) if isinstance(tags, list | tuple) else []


def _read_notebook(path: Any):
    import nbformat

    path = Path(str(path))
    expect(path.is_file(), f"there is no notebook at {path}.", "pass the path of report.ipynb.")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:
        raise CheckFailed(f"{path.name} is not a notebook nbformat can read ({error}).") from None


def _check_other_layouts(tag_defaults: Any, report) -> None:
    """The student's function on copies of the report, untagged, laid out otherwise: with the
    student notebooks' Colab install cell or without it, and with two cells added before the
    defaults. It must tag the defaults cell, and change nothing else: a tagging by position
    (``cells[1]``) or a copy of the course's own tagged notebook fails here."""
    import tempfile

    import nbformat

    base = nbformat.from_dict(json.loads(json.dumps(report)))
    for cell in base.cells:
        tags = [t for t in _tags(cell) if t != "parameters"]
        cell.metadata.pop("tags", None)
        if tags:
            cell.metadata["tags"] = tags
    colab = [i for i, c in enumerate(base.cells) if _is_colab(c)]
    layouts = {"the report's own layout": base}
    other = nbformat.from_dict(json.loads(json.dumps(base)))
    if colab:
        other.cells = [c for i, c in enumerate(other.cells) if i not in colab]
        layouts["no Colab install cell"] = other
    else:
        first = next(i for i, c in enumerate(other.cells) if c.cell_type == "code")
        other.cells.insert(first, _colab_like_cell())
        layouts["the Colab install cell of the student notebooks"] = other
    added = nbformat.from_dict(json.loads(json.dumps(base)))
    where = _defaults_index(added)
    added.cells[where:where] = [
        nbformat.v4.new_markdown_cell("## What this run uses"),
        nbformat.v4.new_code_cell("import math  # added by the check"),
    ]
    layouts["two cells added before the defaults"] = added
    with tempfile.TemporaryDirectory(prefix="check-5.1-") as tmp:
        for number, (layout, nb) in enumerate(layouts.items()):
            path = Path(tmp) / f"report-{number}.ipynb"
            nbformat.write(nb, str(path))
            call(tag_defaults, path, what=f"tag_defaults(<a copy of the report: {layout}>)")
            _expect_only_the_defaults_tagged(nb, _read_notebook(path), layout)


def _expect_only_the_defaults_tagged(before, after, layout: str) -> None:
    shown = f"on a copy of the report with {layout}, tag_defaults"
    same = len(before.cells) == len(after.cells) and all(
        (a.cell_type, a.source) == (b.cell_type, b.source)
        for a, b in zip(before.cells, after.cells, strict=True)
    )
    expect(
        same,
        f"{shown} changed the notebook's cells, not only a tag: {len(before.cells)} cells "
        f"given, {len(after.cells)} saved"
        + ("." if len(before.cells) != len(after.cells) else ", some of them with other code."),
        "read the notebook at the path given, tag one of its cells, write it back to that path.",
    )
    tagged = [i for i, c in enumerate(after.cells) if "parameters" in _tags(c)]
    expect(
        bool(tagged),
        f"{shown} saved no cell tagged `parameters`.",
        "tag the cell, then write the notebook back to the path given.",
    )
    wanted = _defaults_index(before)
    first_line = after.cells[tagged[0]].source.strip().splitlines()[:1] or [""]
    expect(
        tagged == [wanted],
        f"{shown} tagged "
        + (f"{len(tagged)} cells" if len(tagged) > 1 else f"the cell {first_line[0]!r}")
        + f", not the defaults cell (cell {wanted + 1}, counting from 1).",
        "find the cell by what it holds (the `name: type = value` lines of the defaults), not by "
        "its position: another notebook, or the same one with a cell added, has it elsewhere.",
    )


def _defaults_index(nb) -> int:
    """The first code cell that sets every parameter of the report (as its defaults)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not _is_colab(cell):
            with contextlib.suppress(CheckFailed):
                if set(REPORT_PARAMETERS) <= _default_values(cell.source):
                    return index
    raise CheckFailed(
        "the report has no cell of defaults any more (`model: str = ...`, `lr: float = ...`).",
        "tag the defaults cell without changing it; to start again, rerun the cell that "
        "writes a fresh copy of the report.",
    )


def _is_colab(cell) -> bool:
    return COLAB_TAG in _tags(cell) or "google.colab" in cell.source


def _colab_like_cell():
    import nbformat

    cell = nbformat.v4.new_code_cell(
        "# On Google Colab: fetch the course, install it and get the data.\n"
        "# Anywhere else this cell does nothing.\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        '    print("Colab")'
    )
    cell.metadata["tags"] = [COLAB_TAG]
    return cell


def _no_tagged_cell(nb) -> None:
    near = {t for c in nb.cells for t in _tags(c) if t.strip().lower().startswith("param")}
    if near:
        raise CheckFailed(
            f"a cell is tagged {sorted(near)[0]!r}: papermill looks for exactly `parameters`.",
            "tags are case-sensitive, and the word is plural.",
        )
    as_text = [c for c in nb.cells if isinstance(c.metadata.get("tags"), str)]
    expect(
        not as_text,
        "a cell's `tags` is a text, not a list: no tool reads it as a tag "
        "(and the file is no longer a valid notebook).",
        "a cell's tags are a list of texts, even when there is one.",
    )
    expect(
        "parameters" not in json.dumps(nb.metadata.get("tags", [])),
        "the tag is on the notebook's metadata, not on a cell.",
        "papermill reads the tags of each cell.",
    )
    raise CheckFailed(
        "no cell of the saved notebook is tagged `parameters`.",
        "tag the cell that holds the defaults, then save the file: the check reads the "
        "file, not what your screen shows.",
    )


def _default_values(source: str) -> set[str]:
    """The names a parameters cell sets; anything but ``name = literal`` fails the check."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise CheckFailed(f"the tagged cell is not valid Python ({error.msg}).") from None
    names = set()
    for statement in tree.body:
        targets = (
            statement.targets
            if isinstance(statement, ast.Assign)
            else [statement.target]
            if isinstance(statement, ast.AnnAssign) and statement.value is not None
            else None
        )
        literal = targets is not None and _is_literal(statement.value)
        expect(
            literal and all(isinstance(t, ast.Name) for t in targets),
            f"the tagged cell does more than set default values (line {statement.lineno}: "
            f"{ast.get_source_segment(source, statement)!r}).",
            "the parameters cell holds only `name = value` lines (or `name: type = value`); "
            "papermill adds a cell after it, so everything that uses the values must come later.",
        )
        names.update(t.id for t in targets)
    return names


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False
    return True
