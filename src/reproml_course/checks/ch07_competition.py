"""Chapter 07: the submission. A run the verified leaderboard can rank, chosen on validation.

The check runs the student's ``submission(experiment)`` twice over:

- on experiments of its own, in a scratch store, drawn afresh: runs of every terminal status
  (and one still running) that beat the finished ones on validation, a deleted run that beats
  them too, a run without a validation accuracy, a run whose best epoch beat the others but whose
  last did not, the best on the test set never the best on validation, validation accuracies
  that differ in the fourth digit, the best run first, last or in the middle, a single finished
  run, and a better run in another experiment (the active one). The function must pick the
  finished run with the best validation accuracy, and leave the store as it found it;
- on the store the notebook logs to (the class server, or the local store in self-study), for
  the team's experiment: the run it picks finished, logged its own model, was not tested (in
  the competition only a submitted run is, by the leaderboard), has the best validation
  accuracy among the experiment's finished runs (at least two: a search, however small), and
  is the team's latest submission (the latest ``reproml.submitted`` tag of the experiment).
  Runs that beat it and were deleted, or marked failed after they finished (they hold their
  model), during this session of the notebook do not escape: the submission must beat them too.
  Where the leaderboard has already judged the run (its records, which only the instructor
  writes), its verdict must be a ranking.

The first is ``ch07_planted``'s, the second ``ch07_submission``'s.
"""

from __future__ import annotations

from typing import Any

from reproml.tracking.stores import COMPETITION
from reproml_course.checks.base import exercise, expect
from reproml_course.checks.ch07_planted import _check_on_planted_experiments
from reproml_course.checks.ch07_submission import _check_the_real_submission


@exercise("7.1", "submit a run the leaderboard ranks, chosen on validation", points=2, budget=120)
def exercise_7_1(submission: Any, experiment: Any = None) -> None:
    """mlflow.search_runs(experiment_names=..., filter_string=..., order_by=...,
    output_format='list') filters on `attributes.status` and sorts on `metrics.<name> DESC`; a
    run's id is run.info.run_id."""
    expect(
        callable(submission),
        f"the check takes your function submission itself, not {type(submission).__name__} "
        f"{submission!r}.",
        "call it as checks.exercise_7_1(submission, experiment): it runs your function.",
    )
    expect(
        isinstance(experiment, str) and experiment.startswith(f"{COMPETITION}/"),
        f"the second argument should be your competition experiment's name, got {experiment!r}.",
        "pass `experiment`, as the cell above defines it (competition/<team>).",
    )
    _check_on_planted_experiments(submission)
    _check_the_real_submission(submission, experiment)
