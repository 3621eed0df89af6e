"""``reproml-course grade``: execute notebooks and score each exercise from its check cell.

Every cell runs even after an error (``allow_errors``), so a notebook that crashes halfway
keeps the points it earned before and after the crash. When the solutions are at hand, each
check cell's code is restored from them first: editing a check cannot make it pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from reproml.base.errors import ReproMLError
from reproml_course.base.messages import available_languages, say_in, translate
from reproml_course.base.notebooks import (
    check_cells,
    in_parallel,
    kernel_environment,
    list_notebooks,
    notebook_client,
    notebook_language,
    read_notebook,
)
from reproml_course.checks.base import EXERCISES, MIME_TYPE


@dataclass(frozen=True)
class ExerciseScore:
    exercise: str
    title: str
    points: int
    max_points: int
    message: str


@dataclass
class NotebookGrade:
    notebook: str
    language: str = "en"  # the notebook's, which its messages are written in
    scores: list[ExerciseScore] = field(default_factory=list)
    problem: str | None = None  # the kernel died, a cell timed out, or it is no notebook
    unreadable: bool = False  # not a notebook at all: nothing was executed

    @property
    def points(self) -> int:
        return sum(s.points for s in self.scores)

    @property
    def max_points(self) -> int:
        return sum(s.max_points for s in self.scores)

    def as_dict(self) -> dict:
        return {**asdict(self), "points": self.points, "max_points": self.max_points}


def restore_check_cells(submission: NotebookNode, solution: NotebookNode) -> list[str]:
    """Put the solution's code back into the submission's check cells; return the expected
    exercises (those of the solution, so a deleted check cell still counts, as zero)."""
    canonical = check_cells(solution)
    for exercise, index in check_cells(submission).items():
        if exercise in canonical:
            submission.cells[index].source = solution.cells[canonical[exercise]].source
    return list(canonical)


def grade_notebook(
    path: Path,
    solutions: Path | None = None,
    quick: bool = True,
    timeout: int = 600,
    name: str | None = None,
) -> NotebookGrade:
    """``name``: what the grade calls the notebook (default: its file name; a class's folder
    of per-student folders: ``alice/03_hydra.ipynb``)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    name = name or path.name
    try:
        nb = read_notebook(path)
    except Exception as error:  # plain text, an empty file, truncated JSON, not nbformat 4
        solution = _solution(solutions, path, _folder_language(path))
        problem = f"{path} is not a notebook: {_why_unreadable(path, error)}"
        language = _folder_language(path)
        grade = NotebookGrade(name, language, problem=problem, unreadable=True)
        for exercise in check_cells(solution) if solution is not None else {}:
            grade.scores.append(_score(exercise, None, problem, language))
        return grade
    language = notebook_language(nb)
    solution = _solution(solutions, path, language)
    expected = list(check_cells(nb))
    if solution is not None:
        expected = restore_check_cells(nb, solution)
    grade = NotebookGrade(name, language)
    if not expected:  # no exercise to score (experiment.ipynb): nothing worth a kernel
        return grade
    client = notebook_client(nb, path, timeout, allow_errors=True)
    try:
        client.execute(env=kernel_environment(quick, language, path))
    except (CellTimeoutError, DeadKernelError) as error:
        grade.problem = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    located = check_cells(nb)
    for exercise in expected:
        cell = nb.cells[located[exercise]] if exercise in located else None
        grade.scores.append(_score(exercise, cell, grade.problem, language))
    return grade


def _solution(solutions: Path | None, path: Path, language: str) -> NotebookNode | None:
    """The solution a notebook is graded against: in its language's folder when it has one."""
    if solutions is None:
        return None
    translated = [solutions / language / path.name] if language != "en" else []
    for reference in [*translated, solutions / path.name]:
        if reference.is_file():
            return read_notebook(reference)
    return None


def _folder_language(path: Path) -> str:
    """The language of a file that is no notebook, from its folder (``notebooks/fr/``)."""
    folder = path.resolve().parent.name
    return folder if folder in available_languages() else "en"


def _why_unreadable(path: Path, error: Exception) -> str:
    if path.is_file() and path.stat().st_size == 0:
        return "the file is empty"
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"{reason[:120]} (download it again from JupyterLab: File > Download)"


def _score(
    exercise: str, cell: NotebookNode | None, problem: str | None, language: str = "en"
) -> ExerciseScore:
    """The exercise's points and message, both in the notebook's ``language`` (the keys and
    the exercise ids are the same in every language)."""
    registered = EXERCISES.get(exercise)
    title = translate(registered.title, language) if registered else "(unknown exercise)"
    max_points = registered.points if registered else 0

    def zero(message: str, **fields: object) -> ExerciseScore:
        return ExerciseScore(exercise, title, 0, max_points, say_in(language, message, **fields))

    if cell is None:
        if problem and "is not a notebook" in problem:
            return zero("not graded: the file is not a notebook.")
        return zero("the check cell was deleted; put it back from a fresh copy of the notebook.")
    for output in cell.get("outputs", []):
        record = output.get("data", {}).get(MIME_TYPE)
        if record and record.get("exercise") == exercise:
            points = min(int(record["points"]), max_points) if record["passed"] else 0
            return ExerciseScore(exercise, title, points, max_points, record["message"])
    for output in cell.get("outputs", []):
        if _unanswered(exercise, output):
            return zero(
                "not answered: write your letters in the answers cell above the quiz (one "
                "per question) and run it."
            )
        if output.get("output_type") == "error":
            return zero(
                "the check cell raised {error}. Run the exercise cell above it first, without "
                "errors.",
                error=f"{output['ename']}: {output['evalue']}",
            )
    if problem:
        return zero(
            "not reached: the notebook stopped before this check ({problem}).", problem=problem
        )
    return zero("the check cell printed no result.")


def _unanswered(exercise: str, output: dict) -> bool:
    """A quiz whose answers cell never defined ``answers`` (left as the stub, or not run)."""
    return (
        ".Q" in exercise
        and output.get("output_type") == "error"
        and output.get("ename") == "NameError"
        and "'answers'" in output.get("evalue", "")
    )


def grade_path(
    path: Path | list[Path],
    solutions: Path | None = None,
    quick: bool = True,
    timeout: int = 600,
    jobs: int = 1,
) -> list[NotebookGrade]:
    """Grade every notebook at ``path`` (or at each of several paths, in one queue), ``jobs``
    kernels at a time; grades in file order. A folder with no notebook of its own but folders
    that have some is a class: one folder per student, each grade named
    ``student/notebook.ipynb``. With several paths, each grade is named by its file's path."""
    paths = path if isinstance(path, list) else [path]
    named = [found for given in paths for found in _named_notebooks(given, len(paths) > 1)]
    return in_parallel(
        lambda item: grade_notebook(item[0], solutions, quick, timeout, name=item[1]),
        named,
        jobs,
        desc="grading",
    )


def _named_notebooks(path: Path, by_path: bool) -> list[tuple[Path, str | None]]:
    """The notebooks at ``path`` and what to call each: its path (``by_path``), else its file
    name, or ``student/file.ipynb`` in a class's folder of per-student folders."""
    notebooks, nested = list_notebooks(path), False
    if not notebooks and path.is_dir():
        folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        notebooks, nested = [nb for folder in folders for nb in list_notebooks(folder)], True
    if not notebooks:
        raise ReproMLError(
            f"No notebooks at {path}: give a .ipynb file, a folder of them, or a folder of "
            "per-student folders."
        )
    if by_path:
        return [(notebook, notebook.as_posix()) for notebook in notebooks]
    return [(nb, nb.relative_to(path).as_posix() if nested else None) for nb in notebooks]


def format_grades(grades: list[NotebookGrade]) -> str:
    """A table for a person: one line per exercise, a total per notebook and overall; in the
    notebooks' language where they all have one (``grade notebooks/fr``), else in English."""
    languages = {grade.language for grade in grades}
    code = languages.pop() if len(languages) == 1 else "en"
    total_word = say_in(code, "total")
    rows = [(say_in(code, "notebook"), say_in(code, "exercise"), "points", say_in(code, "comment"))]
    for grade in grades:
        for s in grade.scores:
            rows.append((grade.notebook, s.exercise, f"{s.points}/{s.max_points}", s.message))
        if grade.problem:
            rows.append((grade.notebook, "-", "-", grade.problem))
        if grade.scores:
            rows.append((grade.notebook, total_word, f"{grade.points}/{grade.max_points}", ""))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(width[i]) for i in range(3)) + "  " + r[3] for r in rows]
    lines.insert(1, "-" * min(100, max(len(line) for line in lines)))
    lines.append(
        say_in(
            code,
            "Total: {points}/{max_points} points over {count} notebook(s).",
            points=sum(g.points for g in grades),
            max_points=sum(g.max_points for g in grades),
            count=len(grades),
        )
    )
    return "\n".join(lines)
