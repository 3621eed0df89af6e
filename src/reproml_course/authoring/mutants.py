"""``reproml-course mutants``: how many mutants of each solution its check kills.

A check is judged by the wrong answers it rejects. The mistakes we think of are tested in
``tests/checks/``; mutants (``course.mutation``) are the mistakes we did not think of. For an
exercise and each of its mutants, a fresh kernel in a fresh copy of the folder runs the
solution notebook up to the exercise (quick mode), then the exercise's cells with that one
mutant in place and the check cell: a mutant is killed when the check does not pass (or a cell
of the exercise fails), and survives when it does.

``tests/checks/mutants/<id>.yaml`` keeps, per exercise, a digest of what the score depends on (the
check's module, the solution's cells), the counts, and each survivor with why it is
equivalent (no answer could tell it apart) or acceptable. ``--check`` reruns only the
exercises whose digest changed, and fails below ``mutant_record.THRESHOLD`` or on a survivor
with no reason.
"""

from __future__ import annotations

import hashlib
import inspect
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from reproml.base.errors import ReproMLError
from reproml_course.authoring.build import BEGIN
from reproml_course.authoring.mutation import Mutant, cell_mutants
from reproml_course.base.notebooks import (
    check_cells,
    kernel_environment,
    list_notebooks,
    notebook_client,
    read_notebook,
)
from reproml_course.checks.base import EXERCISES, MIME_TYPE


@dataclass(frozen=True)
class ExerciseCode:
    id: str
    notebook: Path
    first: int  # the first cell of the exercise's part of the notebook
    check: int  # its check cell
    mutants: list[Mutant]


@dataclass
class Score:
    id: str
    digest: str
    mutants: int = 0
    killed: int = 0
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problem: str | None = None  # the solution itself did not pass: nothing was scored


def exercise_code(solutions: Path) -> dict[str, ExerciseCode]:
    """Every graded exercise of the solutions, with its cells' mutants. A mutant already made
    for an earlier exercise of the notebook (chapter 02's second script repeats the first)
    belongs to that exercise and is not counted twice."""
    found: dict[str, ExerciseCode] = {}
    for path in list_notebooks(solutions):
        nb = read_notebook(path)
        previous, seen = -1, set()
        for id, check in check_cells(nb).items():
            if ".Q" in id:
                previous = check
                continue
            mutants = []
            for index in range(previous + 1, check):
                for mutant in cell_mutants(index, nb.cells[index].source):
                    change = mutant.key.split(": ", 1)[1]
                    if change not in seen:
                        seen.add(change)
                        mutants.append(mutant)
            first = next(
                (i for i in range(previous + 1, check) if BEGIN in nb.cells[i].source),
                check,
            )
            found[id] = ExerciseCode(id, path, first, check, mutants)
            previous = check
    return found


def digest(code: ExerciseCode) -> str:
    """What the score depends on: the check's module and the notebook's cells up to it."""
    check_source = Path(inspect.getsourcefile(EXERCISES[code.id].check)).read_bytes()
    return digest_of(check_source, exercise_cells(code))


def digest_of(check_source: bytes, cells: str) -> str:
    return hashlib.sha256(check_source + cells.encode()).hexdigest()[:16]


def exercise_cells(code: ExerciseCode) -> str:
    nb = read_notebook(code.notebook)
    return "\n".join(nb.cells[i].source for i in range(code.first, code.check + 1))


def score_exercise(
    code: ExerciseCode,
    timeout: float,
    progress: Callable[[str, int, int], None] | None = None,
) -> Score:
    """Run the check on the solution, then on each mutant, each in a notebook of its own: a fresh
    copy of the notebook's folder and a fresh kernel that runs the solution up to the
    exercise, logging to an MLflow store of its own. Nothing an earlier mutant left (files,
    runs in the store, names in the kernel) can then help or hurt the next one; one kernel
    for all of them once let a mutant pass on the runs its predecessors had logged. The
    copies live outside the repository: a mutant writes where it likes (a uv project made in
    the working folder joins the enclosing workspace, seen for real)."""
    started = time.perf_counter()
    score = Score(code.id, digest(code))
    with tempfile.TemporaryDirectory(prefix="reproml-mutants-") as scratch:
        if not _passes_alone(code, Path(scratch), timeout, {}):
            score.problem = "the solution itself does not pass its check"
            return score
        for done, mutant in enumerate(code.mutants):
            if progress:
                progress(code.id, done, len(code.mutants))
            score.mutants += 1
            if _passes_alone(code, Path(scratch), timeout, {mutant.cell: mutant.source}):
                score.survivors.append(mutant.key)
            else:
                score.killed += 1
    score.seconds = time.perf_counter() - started
    return score


def _passes_alone(
    code: ExerciseCode, scratch: Path, timeout: float, changed: dict[int, str]
) -> bool:
    """The solution notebook up to the exercise (without the earlier checks), the exercise's
    cells (one of them changed) and its check, in a fresh copy of the folder and a fresh
    kernel: did the check pass?"""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    home = Path(tempfile.mkdtemp(dir=scratch))
    folder = home / code.notebook.parent.name
    shutil.copytree(code.notebook.parent, folder)
    notebook = folder / code.notebook.name
    nb = read_notebook(notebook)
    budget = EXERCISES[code.id].budget
    client = notebook_client(
        nb, notebook, int(max(timeout, budget + 60)), allow_errors=True,
        interrupt_on_timeout=True, store_widget_state=False,
    )  # fmt: skip
    part = [i for i in range(code.first, code.check + 1) if nb.cells[i].cell_type == "code"]
    try:
        # Earlier exercises' checks are skipped: a check leaves the notebook's state as it
        # found it (scratch stores and folders), and they take about half of 5.3's setup.
        earlier_checks = set(check_cells(nb).values())
        # A store of its own too: the course's store is shared by every run from this
        # repository, and a mutant run beside another (a second harness, a test) once
        # found the other's runs deleted under it.
        store = {"MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
        with client.setup_kernel(env={**kernel_environment(quick=True), **store}):
            for index in range(code.first):
                if nb.cells[index].cell_type == "code" and index not in earlier_checks:
                    client.execute_cell(nb.cells[index], index)
            return _passes(client, nb, part, code.id, changed)
    except (CellTimeoutError, DeadKernelError):
        return False
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _passes(client, nb: NotebookNode, part: list[int], id: str, changed: dict[int, str]) -> bool:
    """Run the exercise's cells (one of them changed) and its check; did the check pass?"""
    for index in part:
        cell = nb.cells[index]
        original = cell.source
        cell.source = changed.get(index, original)
        try:
            client.execute_cell(cell, index)
        finally:
            cell.source = original
        if index != part[-1] and any(o.get("output_type") == "error" for o in cell.outputs):
            return False  # the exercise's own code fails: a student sees it at once
    for output in nb.cells[part[-1]].outputs:
        record = output.get("data", {}).get(MIME_TYPE)
        if record and record.get("exercise") == id:
            return bool(record["passed"])
    return False


def stale(record: dict, codes: dict[str, ExerciseCode]) -> list[str]:
    return [id for id, code in codes.items() if record.get(id, {}).get("digest") != digest(code)]


def require_exercises(codes: dict[str, ExerciseCode], ids: list[str]) -> list[str]:
    unknown = [id for id in ids if id not in codes]
    if unknown:
        raise ReproMLError(f"No exercise {', '.join(unknown)}: exercises are {', '.join(codes)}.")
    return ids or list(codes)
