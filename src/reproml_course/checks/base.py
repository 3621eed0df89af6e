"""How an exercise check runs and reports: one line for the student, a record for the grader.

A check calls the student's code on fresh inputs it makes up itself, so a hard-coded answer
cannot pass. It prints one line: passed, or what is wrong and a hint, never the solution. In
a notebook the line also carries a machine-readable record (mime type ``MIME_TYPE``) that
``reproml-course grade`` reads back from the executed notebook.
"""

from __future__ import annotations

import shlex
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from reproml_course.base.messages import say, translate
from reproml_course.checks.base_budget import OverBudget, time_budget
from reproml_course.checks.base_quiet import quiet_libraries
from reproml_course.checks.failure import CheckFailed, expect  # noqa: F401 (the checks import it here)
from reproml_course.checks.own_code import refuse_course_code
from reproml_course.checks.own_code_calls import calls_refused

MIME_TYPE = "application/vnd.reproml.check+json"
PASSED_LINE = "✅ Exercise {exercise} passed ({points}/{max_points} points)."
DEFAULT_BUDGET = 300.0  # seconds; each exercise sets its own from the solution's measured time


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    passed: bool
    points: int
    max_points: int
    message: str
    more_help: bool = False  # a second hint can be asked for with checks.hint(exercise)

    def line(self) -> str:
        """In the student's language (``messages``), as ``message`` already is."""
        if self.passed:
            return say(
                PASSED_LINE,
                exercise=self.exercise,
                points=self.points,
                max_points=self.max_points,
            )
        more = (
            say(' (Stuck? checks.hint("{exercise}") names the tools.)', exercise=self.exercise)
            if self.more_help
            else ""
        )
        return (
            say("❌ Exercise {exercise}: {message}", exercise=self.exercise, message=self.message)
            + more
        )

    def as_dict(self) -> dict[str, Any]:
        """The record the grader reads back (what a second hint exists for is the line's)."""
        record = asdict(self)
        record.pop("more_help")
        return record


@dataclass(frozen=True)
class Exercise:
    """A graded exercise. Its hints come in two tiers: a failing check names the idea (never
    the answer); ``hint``, shown only when asked for, names the API to use."""

    id: str
    title: str
    points: int
    check: Callable[..., None]
    hint: str = ""
    # Dotted names of the course's own implementations of this exercise: an answer that
    # names or calls one fails (the checks' internals are always refused; see own_code).
    course_answers: tuple[str, ...] = ()
    budget: float = DEFAULT_BUDGET  # seconds for the whole check, the student's code included

    def evaluate(self, *args: Any, **kwargs: Any) -> CheckResult:
        """Run the check and turn every way it can end into a result; never raises."""

        answers = [*args, *kwargs.values()]
        try:
            with quiet_libraries(), time_budget(self.budget):
                refuse_course_code(self.course_answers, answers)
                with calls_refused(self.course_answers, answers):
                    self.check(*args, **kwargs)
        except CheckFailed as failure:
            return self._result(False, _told(failure))
        except OverBudget:
            return self._result(
                False,
                say(
                    "the check stopped your code after {seconds} s, far longer than a correct "
                    "answer takes here. Hint: call your code yourself on a small input and look "
                    "for what takes so long (the full data set, a loop that never ends, a value "
                    "that never reaches the program).",
                    seconds=f"{self.budget:.0f}",
                ),
            )
        except Exception as error:  # a bug in the check itself must still read clearly
            where = traceback.extract_tb(error.__traceback__)[-1]
            return self._result(
                False,
                say(
                    "the check itself failed with {error} (at {where}, line {line}). Please "
                    "tell your instructor.",
                    error=f"{type(error).__name__}: {error}",
                    where=where.name,
                    line=where.lineno,
                ),
            )
        return self._result(True, "passed")

    def _result(self, passed: bool, message: str) -> CheckResult:
        points = self.points if passed else 0
        return CheckResult(self.id, passed, points, self.points, message, bool(self.hint))


def _told(failure: CheckFailed) -> str:
    """The failure as the student reads it: problem and hint, in their language."""
    problem = translate(failure.problem)
    if not failure.hint:
        return problem
    return say("{problem} Hint: {hint}", problem=problem, hint=translate(failure.hint))


EXERCISES: dict[str, Exercise] = {}


def exercise(
    id: str,
    title: str,
    points: int = 1,
    hint: str = "",
    course_answers: tuple[str, ...] = (),
    budget: float = DEFAULT_BUDGET,
) -> Callable[[Callable[..., None]], Callable]:
    """Register a check; the decorated name shows the result instead of returning it.

    ``hint`` is the second tier (see Exercise); without it, the check's docstring is: it names
    the APIs the exercise needs, for the student who asks twice.
    """

    def register(check: Callable[..., None]) -> Callable[..., None]:
        text = hint or " ".join((check.__doc__ or "").split())
        EXERCISES[id] = entry = Exercise(
            id, title, points, check, text, tuple(course_answers), budget
        )

        def run_and_show(*args: Any, **kwargs: Any) -> None:
            show(entry.evaluate(*args, **kwargs))

        run_and_show.__name__ = check.__name__
        run_and_show.__doc__ = f"Exercise {id}: {title} ({points} points)."
        return run_and_show

    return register


def show(result: CheckResult) -> None:
    """One line; in a notebook, with the record the grader reads alongside it."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": result.line(), MIME_TYPE: result.as_dict()}, raw=True)
    else:
        print(result.line())


def call(function: Any, *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the student's ``function``; turn anything it raises into a clear failure."""
    if not callable(function):
        raise CheckFailed(
            f"expected a function for {what}, got {type(function).__name__}.",
            "pass the function itself, without calling it (no parentheses).",
        )
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            f"{what} is not written yet (it raises NotImplementedError).",
            "replace the `raise NotImplementedError(...)` line with your code, run that cell, "
            "then this one.",
        ) from None
    except CheckFailed:
        raise
    except SystemExit as exit_:
        raise CheckFailed(f"{what} exited (SystemExit: {exit_.code}).") from None
    except subprocess.CalledProcessError as error:
        command = error.cmd if isinstance(error.cmd, str) else shlex.join(map(str, error.cmd))
        said = (error.stderr or "").strip().splitlines() if isinstance(error.stderr, str) else []
        raise CheckFailed(
            f"in {what}, the command `{command}` failed (exit {error.returncode})"
            + (f": {said[-1]}" if said else "."),
            "call your function in a cell of its own to read the command's whole message.",
        ) from None
    except Exception as error:
        raise CheckFailed(f"{what} raised {type(error).__name__}: {error}") from None


def hint(id: str) -> None:
    """The second hint of exercise ``id``: which functions or options to use."""
    entry = EXERCISES.get(str(id))
    if entry is None:
        print(say("No exercise {id}. Exercises: {ids}.", id=repr(id), ids=", ".join(EXERCISES)))
        return
    title = translate(entry.title)
    if not entry.hint:
        print(
            say(
                "Exercise {id} ({title}) has no second hint: its check says it all.",
                id=entry.id,
                title=title,
            )
        )
    else:
        print(
            say(
                "Exercise {id} ({title}): {hint}",
                id=entry.id,
                title=title,
                hint=translate(entry.hint),
            )
        )
