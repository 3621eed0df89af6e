"""Chapter 05: a notebook made a program, run from the command line and swept.

5.1 reads the report the student's ``tag_defaults`` tagged (one code cell tagged ``parameters``,
only default values in it, not the Colab install cell the student notebooks start with), gives
the function copies of the report laid out otherwise (only their defaults cell may get the tag),
and runs the report once with papermill, every value unlike its default: the run it logs, into
the run and the store the check passes, must have used them all. 5.2 runs the student's
papermill command line on a small notebook of the check's own, with values of every kind; each
must arrive with its type. 5.3 runs the student's sweep on a small notebook that logs into the
run it is given, the first and last parameter sets failing: one parent run, a child per set
holding its own executed notebook, the failing children FAILED and the sweep gone on.

Here is 5.1 (its parts in ``ch05_parameters_cell`` and ``ch05_fresh_values``) and the small
notebook 5.2 and 5.3 run; 5.2 is ``ch05_command``'s, 5.3 ``ch05_sweep``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reproml_course.checks.base import exercise, expect
from reproml_course.checks.ch05_fresh_values import _run_with_fresh_values
from reproml_course.checks.ch05_parameters_cell import (
    COLAB_TAG,
    REPORT_PARAMETERS,
    _check_other_layouts,
    _default_values,
    _no_tagged_cell,
    _parameters_cells,
    _read_notebook,
    _tags,
)


# One papermill execution: a kernel, the course imported, two epochs in quick mode (about
# 15 s alone, 35 s on 2 busy cores).
@exercise("5.1", "make a notebook parameterizable", points=1, budget=300)
def exercise_5_1(tag_defaults: Any, notebook: Any) -> None:
    """nbformat.read, cell.metadata.setdefault('tags', []).append('parameters'), nbformat.write; or
    in JupyterLab: the cell's Property Inspector (the gear icon), 'Add Tag', then save.
    papermill.inspect_notebook(path) shows what papermill found."""
    expect(
        callable(tag_defaults),
        f"checks.exercise_5_1 was given {type(tag_defaults).__name__} where your function goes.",
        "call it as checks.exercise_5_1(tag_defaults, report): your function, then the report.",
    )
    nb = _read_notebook(notebook)
    tagged = _parameters_cells(nb)
    if not tagged:
        _no_tagged_cell(nb)
    expect(
        len(tagged) == 1,
        f"{len(tagged)} cells are tagged `parameters`: papermill injects its values after the "
        "first only.",
        "keep one cell of defaults and tag only that one.",
    )
    (cell,) = tagged
    expect(cell.cell_type == "code", "the tagged cell is a markdown cell.", "tag a code cell.")
    expect(
        COLAB_TAG not in _tags(cell) and "google.colab" not in cell.source,
        "the tagged cell is the Colab install cell (it sets the course up on Google Colab), not "
        "the cell of defaults.",
        "find the cell by what it holds (the `name = value` lines of the defaults), not by its "
        "position: the student notebooks start with that install cell.",
    )
    assigned = _default_values(cell.source)
    missing = [name for name in REPORT_PARAMETERS if name not in assigned]
    expect(
        not missing,
        f"the tagged cell does not set {', '.join(missing)}: a parameter papermill may set "
        "needs its default in the tagged cell.",
        "tag the cell where the notebook's defaults are, without changing it.",
    )
    _check_other_layouts(tag_defaults, nb)
    _run_with_fresh_values(Path(str(notebook)))


def _small_notebook(path: Path, defaults: str, body: str) -> None:
    """A notebook of the check's own: a ``parameters`` cell, then ``body``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from reproml_course.base.notebooks import KERNELSPEC

    parameters = new_code_cell(defaults)
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[parameters, new_code_cell(body)])
    nb.metadata["kernelspec"] = KERNELSPEC  # the course's own notebooks' kernel
    nbformat.write(nb, str(path))
