"""Submitting a run to the competition, and the policy the leaderboard applies to submissions.

A team trains as many runs as it likes, tested on nothing (``data.test=false``), chooses one on
validation and submits it: ``submit_run`` writes the tag ``reproml.submitted`` on that run (the
only write a student can make, on their own team's run). The leaderboard reads those tags at
each pass and records every new one, with the time **it** first saw it, in the records only the
instructor writes, so a student's clock or a tag written again decides nothing.

The policy, the usual one of public competitions (Kaggle's, for instance):
- only submitted runs are tested, so no run's test accuracy exists before its team submits it;
- a team's **latest** submission is its entry, better or worse than the ones before;
- at most ``PER_DAY`` submissions a team per day (UTC) are tested; later ones that day are
  recorded as refused. Each test of a submission tells the team something about the test set,
  so the limit bounds how much it can learn from it, whatever the number of runs it logs;
- the leaderboard shows how many submissions each team made beside its score.

Nothing here imports torch.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import replace

from reproml.base.errors import ReproMLError
from reproml.tracking.stores import COMPETITION
from reproml_course.classroom.records import Submission, Verdict

SUBMITTED_TAG = "reproml.submitted"  # on the student's run: when they submitted it, and a nonce
PER_DAY = 5


def submit_run(run_id: str, tracking_uri: str | None = None) -> str:
    """Submit ``run_id`` (a finished, untested run of a competition experiment); return what
    was done, to print. The leaderboard tests it at its next pass."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri)
    try:
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id).name
    except MlflowException as error:
        raise ReproMLError(f"Cannot submit {run_id!r}: {str(error).splitlines()[0]}") from None
    if not experiment.startswith(f"{COMPETITION}/"):
        problem = f"it is in the experiment {experiment!r}, not a competition experiment."
    else:
        problem = submission_problem(run)
    if problem:
        raise ReproMLError(f"Cannot submit run {run_id}: {problem}")
    now = dt.datetime.now(dt.UTC)
    client.set_tag(run_id, SUBMITTED_TAG, f"{now:%Y-%m-%dT%H:%M:%S.%fZ} {secrets.token_hex(4)}")
    return (
        f"Submitted run {run.info.run_name or run_id} ({run_id}) for {experiment} at "
        f"{now:%H:%M:%S} UTC. The leaderboard tests it at its next pass; your team's latest "
        f"submission is its entry, and a few a day are tested ({PER_DAY} unless your "
        "instructor says otherwise)."
    )


def tested_metrics(run) -> list[str]:
    """The test metrics ``run`` logged: in the competition, a run with any was tested before it
    was submitted and can never be an entry."""
    return sorted(k for k in run.data.metrics if k.startswith("test_"))


def submission_problem(run) -> str:
    """Why ``run`` of a team's experiment cannot be a submission ("" when it can): what
    submit_run refuses, and what the leaderboard refuses of a tag written by hand."""
    if run.info.lifecycle_stage != "active":
        return "it is deleted."
    if run.info.status != "FINISHED":
        return f"it is {run.info.status}: only a finished run has a final model to test."
    tested = tested_metrics(run)
    if tested:
        return (
            f"it was tested before it was submitted ({', '.join(tested)} logged): in the "
            "competition the leaderboard tests the one run you submit. Train with "
            "data.test=false and choose on validation."
        )
    return ""


def submitted_value(run) -> str:
    return run.data.tags.get(SUBMITTED_TAG, "")[:100]


def utc_day(milliseconds: int) -> str:
    return dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC).strftime("%Y-%m-%d")


def leaderboard_rows(verdicts: list[Verdict], submissions: list[Submission]) -> list[Verdict]:
    """One row per team: the verdict of its latest tested submission (better or worse than
    the ones before), with how many it made; best first."""
    tested = {v.run_id: v for v in verdicts}
    rows: dict[str, Verdict] = {}
    counts: dict[str, int] = {}
    for submission in submissions:  # the earliest seen first
        if submission.refused:
            continue
        counts[submission.team_id] = counts.get(submission.team_id, 0) + 1
        verdict = tested.get(submission.run_id)
        if verdict is not None:
            rows[submission.team_id] = replace(verdict, submitted=submission.seen)
    return ranked_order(replace(v, submissions=counts[team]) for team, v in rows.items())


def record_submissions(records, every_run, teams, submissions, per_day) -> list:
    """Record the submissions not seen before (a run's tag with a value not recorded yet),
    refused where the run cannot be one or the team is over the day's limit. ``every_run``
    holds the runs of the teams' experiments only, whatever their names now."""
    known = {(s.run_id, s.value) for s in submissions}
    fresh = [
        run
        for run in every_run
        if submitted_value(run) and (run.info.run_id, submitted_value(run)) not in known
    ]
    today = utc_day(int(time.time() * 1000))
    tested_today: dict[str, int] = {}
    for s in submissions:
        if not s.refused and utc_day(s.seen) == today:
            tested_today[s.team_id] = tested_today.get(s.team_id, 0) + 1
    written = []
    for run in sorted(fresh, key=submitted_value):  # in the order the teams say they submitted
        team_id = run.info.experiment_id
        refused = submission_problem(run)
        if not refused and tested_today.get(team_id, 0) >= per_day:
            refused = f"over the limit of {per_day} submissions a day (UTC) for a team."
        if not refused:
            tested_today[team_id] = tested_today.get(team_id, 0) + 1
        submission = Submission(
            run_id=run.info.run_id, team=teams[team_id], team_id=team_id,
            run_name=run.info.run_name or "", value=submitted_value(run), refused=refused,
        )  # fmt: skip
        written.append(records.write_submission(submission))
    return written


def ranked_order(verdicts) -> list[Verdict]:
    """Ranked runs by verified accuracy (the earlier verdict first on a tie), then the others."""
    return sorted(
        verdicts, key=lambda v: (not v.ranked, -(v.verified if v.ranked else 0), v.created)
    )
