"""Chapter 05: papermill sweeps."""

from __future__ import annotations

import itertools
import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect


@exercise("5.1", "expand a grid into parameter sets", points=1)
def exercise_5_1(expand_grid: Any) -> None:
    rng = random.Random()
    grid = {
        "model": rng.sample(["logreg", "mlp", "cnn"], rng.randint(2, 3)),
        "lr": rng.sample([0.1, 0.03, 0.01, 0.001], rng.randint(2, 4)),
        "seed": rng.sample(range(100), rng.randint(1, 3)),
    }
    expected = [
        dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
    ]
    sets = call(expand_grid, grid, what="expand_grid(grid)")
    expect(
        isinstance(sets, list) and all(isinstance(s, dict) for s in sets),
        f"expand_grid should return a list of dicts, got {type(sets).__name__}.",
    )
    expect(
        len(sets) == len(expected),
        f"a grid of {' x '.join(str(len(v)) for v in grid.values())} values should give "
        f"{len(expected)} parameter sets, got {len(sets)}.",
        "every combination once: itertools.product does that.",
    )
    expect(
        sets == expected,
        f"the parameter sets differ from the grid's combinations, e.g. {sets[0]} first "
        f"instead of {expected[0]}.",
        "keep the grid's key order; the last key should change fastest.",
    )
    expect(
        call(expand_grid, {}, what="expand_grid({})") == [{}],
        "an empty grid should give one empty parameter set ([{}]): a single run with the "
        "notebook's defaults.",
    )


def _tiny_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    parameters = nbformat.v4.new_code_cell("x = 1")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            'assert x >= 0, "x must not be negative"\nprint("double:", 2 * x)'
        ),
    ]
    nbformat.write(nb, path)


@exercise("5.2", "run a papermill sweep that survives a failing run", points=2)
def exercise_5_2(run_sweep: Any) -> None:
    rng = random.Random()
    values = [*rng.sample(range(1, 50), 3), -rng.randint(1, 9)]
    rng.shuffle(values)
    parameter_sets = [{"x": v} for v in values]
    with tempfile.TemporaryDirectory() as tmp:
        notebook = Path(tmp) / "double.ipynb"
        _tiny_notebook(notebook)
        output_dir = Path(tmp) / "executed"
        failed = call(
            run_sweep,
            notebook,
            parameter_sets,
            output_dir,
            what="run_sweep(notebook, parameter_sets, output_dir)",
        )
        expect(
            isinstance(failed, list),
            f"run_sweep should return the list of parameter sets that failed, got "
            f"{type(failed).__name__}.",
        )
        bad = [p for p in parameter_sets if p["x"] < 0]
        expect(
            failed == bad,
            f"run_sweep reported {failed} as failed; with x in {values}, only {bad} fails.",
            "catch papermill.PapermillExecutionError around each execute_notebook call and "
            "collect that run's parameters.",
        )
        outputs = sorted(output_dir.glob("*.ipynb")) if output_dir.is_dir() else []
        expect(
            len(outputs) == len(parameter_sets),
            f"{len(outputs)} executed notebooks in output_dir for {len(parameter_sets)} "
            "parameter sets.",
            "give each run its own output file (e.g. run-0.ipynb, run-1.ipynb...); papermill "
            "writes it even when the run fails.",
        )
        import nbformat

        seen = sorted(nbformat.read(p, 4).metadata["papermill"]["parameters"]["x"] for p in outputs)
        if seen != sorted(values):
            raise CheckFailed(
                f"the executed notebooks ran with x = {seen}, not {sorted(values)}.",
                "pass each parameter set as parameters=... to execute_notebook.",
            )
