"""What the competition keeps where only the instructor writes: teams, submissions, verdicts.

Both live in one experiment, ``<competition>-leaderboard``, created by the admin before any
student has an account (``reproml-course accounts`` creates it first) and on which students
only read, as they read everything on the class server.

- **Teams** are its tags, ``reproml.team.<experiment id>`` = the team's name: a team is the id
  of the experiment ``accounts`` made for it, so renaming that experiment changes nothing.
- **Submissions** are its runs tagged ``reproml.record=submission``, one each time the
  leaderboard first sees a run's ``reproml.submitted`` tag with a new value: the record's start
  time is when it saw it, the time the policy counts (``submissions``).
- **Verdicts** are its other runs, one per tested run, with the accuracy on the test set as a
  metric (the MLflow UI sorts by it) and what was checked as tags. A verdict is written once;
  the copies written onto the student's run, for the UI, are only copies (the student may edit
  their own run, so nothing is ever read back from there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from reproml.base.errors import ReproMLError

TEAM_TAG = "reproml.team."
RECORD_TAG, SUBMISSION = "reproml.record", "submission"
ATTEMPTS_TAG = "reproml.attempts"  # on a submission: tries to verify it that raised
VERDICT_TAG, VERIFIED_TAG = "reproml.verdict", "reproml.verified_test_accuracy"
RANKED = "ranked"


def records_experiment(competition: str) -> str:
    return f"{competition}-leaderboard"


@dataclass(frozen=True)
class Verdict:
    """The leaderboard's word on one run, as kept in the records."""

    run_id: str
    team: str
    team_id: str  # the team's experiment id
    run_name: str
    user: str
    logged: float  # the test_accuracy the run logged (nan: none)
    verified: float  # the accuracy re-evaluated on the instructor's test set (nan: not evaluated)
    problem: str  # why it is not ranked; empty when ranked
    note: str = ""  # worth knowing, not a reason to flag (e.g. another team's identical weights)
    model_id: str = ""
    weights_sha256: str = ""
    predictions_sha256: str = ""  # the class it gives each test image: near-copies share it
    test_set_sha256: str = ""
    test_images: int = 0
    created: int = 0  # when the verdict was written (ms)
    # Not stored with the verdict: filled in for the leaderboard's rows.
    submissions: int = 0  # how many submissions of the team's were tested (refused ones aside)
    submitted: int = 0  # when the leaderboard first saw the submission of this row (ms)

    @property
    def ranked(self) -> bool:
        return not self.problem

    @property
    def summary(self) -> str:
        return RANKED if self.ranked else f"flagged: {self.problem}"

    def as_tags(self) -> dict[str, str]:
        return {
            f"reproml.{f.name}": str(getattr(self, f.name))
            for f in fields(self)
            if f.name not in NOT_TAGS
        }

    @classmethod
    def from_run(cls, run) -> Verdict:
        tags, metrics = run.data.tags, run.data.metrics
        values = {
            f.name: tags.get(f"reproml.{f.name}", "") for f in fields(cls) if f.name not in NOT_TAGS
        }
        values["test_images"] = int(values["test_images"] or 0)
        return cls(
            **values,
            logged=metrics.get("logged_test_accuracy", math.nan),
            verified=metrics.get("verified_test_accuracy", math.nan),
            created=run.info.start_time or 0,
        )


NOT_TAGS = ("logged", "verified", "created", "submissions", "submitted")


@dataclass(frozen=True)
class Submission:
    """A submission as the leaderboard recorded it when it first saw it."""

    run_id: str
    team: str
    team_id: str
    run_name: str
    value: str  # the run's reproml.submitted tag as first seen
    refused: str = ""  # why it is not tested ("" when it is)
    seen: int = 0  # when the leaderboard first saw it (ms): its record's start time
    record_id: str = ""  # the record's own run id
    attempts: int = 0  # tries to verify it that raised (the store, the evaluator...)

    def as_tags(self) -> dict[str, str]:
        keys = ("run_id", "team", "team_id", "run_name", "value", "refused")
        return {RECORD_TAG: SUBMISSION, **{f"reproml.{k}": getattr(self, k) for k in keys}}

    @classmethod
    def from_run(cls, run) -> Submission:
        tags = run.data.tags
        keys = ("run_id", "team", "team_id", "run_name", "value", "refused")
        return cls(
            **{k: tags.get(f"reproml.{k}", "") for k in keys},
            seen=run.info.start_time or 0,
            record_id=run.info.run_id,
            attempts=int(tags.get(ATTEMPTS_TAG, "0") or 0),
        )


class Records:
    """The records experiment of one competition in one store, through an MlflowClient."""

    def __init__(self, client, competition: str) -> None:
        self.client, self.name = client, records_experiment(competition)
        experiment = client.get_experiment_by_name(self.name)
        self.experiment_id = experiment.experiment_id if experiment else None
        self.tags = dict(experiment.tags) if experiment else {}

    def create(self) -> str:
        if self.experiment_id is None:
            self.experiment_id = self.client.create_experiment(self.name)
        return self.experiment_id

    def check_owner(self, admin) -> None:
        """On a server with accounts: refuse records any student can write to."""
        if self.experiment_id is None:
            return
        writers = admin.experiment_writers(self.experiment_id)
        if writers:
            who = ", ".join(f"{w.username} ({w.permission})" for w in writers)
            raise ReproMLError(
                f"Students can write to the experiment {self.name!r}, where the leaderboard "
                f"keeps its teams and verdicts: {who}. Someone created it before the admin did. "
                "Delete it as the admin (MLflow UI, or `mlflow experiments delete`), then run "
                "`reproml-course accounts` again to create it afresh."
            )

    def teams(self) -> dict[str, str]:
        """{experiment id: team name} as ``accounts`` recorded them."""
        return {
            key.removeprefix(TEAM_TAG): name
            for key, name in self.tags.items()
            if key.startswith(TEAM_TAG)
        }

    def record_team(self, experiment_id: str, team: str) -> None:
        self.client.set_experiment_tag(self.create(), f"{TEAM_TAG}{experiment_id}", team)
        self.tags[f"{TEAM_TAG}{experiment_id}"] = team

    def _runs(self, submissions: bool) -> list:
        if self.experiment_id is None:
            return []
        runs = self.client.search_runs([self.experiment_id], max_results=50_000)
        return [r for r in runs if (r.data.tags.get(RECORD_TAG) == SUBMISSION) == submissions]

    def verdicts(self) -> dict[str, Verdict]:
        """{run id: verdict}, every verdict written so far."""
        verdicts = (Verdict.from_run(run) for run in self._runs(submissions=False))
        return {v.run_id: v for v in verdicts if v.run_id}

    def submissions(self) -> list[Submission]:
        """Every submission recorded so far, the earliest seen first."""
        found = [Submission.from_run(run) for run in self._runs(submissions=True)]
        return sorted(found, key=lambda s: (s.seen, s.value))

    def write_submission(self, submission: Submission) -> Submission:
        run = self.client.create_run(
            self.create(), run_name=f"submission {submission.run_name}"[:250],
            tags=submission.as_tags(),
        )  # fmt: skip
        self.client.set_terminated(run.info.run_id)
        return Submission(
            **{**vars(submission), "seen": run.info.start_time, "record_id": run.info.run_id}
        )

    def forget_team(self, team_id: str) -> int:
        """Move a team's submissions and verdicts to MLflow's trash (a local store's practice
        team only: on the class server, students cannot write here); how many."""
        runs = self._runs(submissions=True) + self._runs(submissions=False)
        mine = [r for r in runs if r.data.tags.get("reproml.team_id") == team_id]
        for run in mine:
            self.client.delete_run(run.info.run_id)
        return len(mine)

    def count_attempt(self, submission: Submission) -> int:
        """One more try to verify ``submission`` that raised; how many so far."""
        attempts = submission.attempts + 1
        self.client.set_tag(submission.record_id, ATTEMPTS_TAG, str(attempts))
        return attempts

    def write(self, verdict: Verdict) -> Verdict:
        from mlflow.entities import Metric

        run = self.client.create_run(
            self.create(), run_name=verdict.run_name or verdict.run_id, tags=verdict.as_tags()
        )
        stamp = run.info.start_time
        metrics = {
            "logged_test_accuracy": verdict.logged,
            "verified_test_accuracy": verdict.verified,
        }
        self.client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items() if not math.isnan(v)],
        )
        self.client.set_terminated(run.info.run_id)
        return Verdict(**{**vars(verdict), "created": stamp})


def restore_tags(client, runs: list, verdicts: dict[str, Verdict]) -> int:
    """Write the verdict tags back onto ``runs`` (every run a team can see, whatever its
    status) where they were edited, and remove them where no verdict was written (a FAILED
    run tagged "ranked" by hand); return how many runs were repaired."""
    restored = 0
    for run in runs:
        verdict = verdicts.get(run.info.run_id)
        found = {k: run.data.tags.get(k) for k in (VERDICT_TAG, VERIFIED_TAG)}
        if verdict is not None and tags_of(verdict) != found:
            write_tags(client, run.info.run_id, verdict)
            restored += 1
        elif verdict is None and any(v is not None for v in found.values()):
            for key, value in found.items():
                if value is not None:
                    client.delete_tag(run.info.run_id, key)
            restored += 1
    return restored


def tags_of(verdict: Verdict) -> dict[str, str]:
    verified = "" if math.isnan(verdict.verified) else f"{verdict.verified:.4f}"
    return {VERDICT_TAG: verdict.summary[:5000], VERIFIED_TAG: verified}


def write_tags(client, run_id: str, verdict: Verdict) -> None:
    for key, value in tags_of(verdict).items():
        client.set_tag(run_id, key, value)
