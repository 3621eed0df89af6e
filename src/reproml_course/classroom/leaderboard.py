"""The competition's leaderboard: each submitted run tested once, on the instructor's test set.

Teams log runs that are never tested (``data.test=false``) and submit the one they chose on
validation (``submissions``). ``verify_competition`` (the instructor's ``reproml-course
leaderboard``) records each new submission, applies the policy (``submissions``), and tests
each submitted run once:

- its model must have been logged by the run itself, as plain weights of one of the course's
  models (``model_files``): nothing of it is ever executed or unpickled;
- the weights are evaluated in a separate process with time and memory limits and no
  credentials (``evaluator``), on the **whole** test set in the instructor's data root;
- weights, or answers on the test set, identical to those of another team's earlier run are
  pointed out (``leaderboard_verify`` tests one run).

The verdict is written once, where only the admin writes (``records``), and copied onto the
run as tags for the MLflow UI. A run nobody submitted is never tested: its test accuracy
exists nowhere. The leaderboard has one row per team, its latest submission tested.
``read_leaderboard`` is what students call: it reads the records and evaluates nothing.
Nothing here imports torch.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml.tracking.stores import COMPETITION, TrackingError, check_tracking_uri
from reproml_course.classroom.admin import ServerAdmin
from reproml_course.classroom.evaluator import Evaluator, Limits
from reproml_course.classroom.leaderboard_verify import _models_by_run, _remember, _verify
from reproml_course.classroom.leaderboard_view import format_leaderboard, plot_leaderboard
from reproml_course.classroom.records import Records, Submission, Verdict, restore_tags, write_tags
from reproml_course.classroom.submissions import PER_DAY, leaderboard_rows, record_submissions

__all__ = ["format_leaderboard", "plot_leaderboard", "read_leaderboard", "verify_competition"]
TRIES = 3  # a submission whose verification raised this often gets a verdict all the same


@dataclass
class Report:
    verdicts: list[Verdict]  # the leaderboard: each team's latest tested submission, best first
    new: list[Verdict] = field(default_factory=list)  # written by this call
    submissions: list[Submission] = field(default_factory=list)  # recorded by this call
    pending: list[str] = field(default_factory=list)  # runs that could not be checked now
    restored: int = 0  # runs whose verdict tags had been edited, written back
    note: str | None = None
    seconds: float = 0.0


def verify_competition(
    tracking_uri: str,
    competition: str = COMPETITION,
    data_root: str | None = None,
    limits: Limits | None = None,
    per_day: int = PER_DAY,
) -> Report:
    """Record new submissions, test the submitted runs not tested yet; return the leaderboard
    (the instructor's call)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    started = time.perf_counter()
    limits = limits or Limits()
    check_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    admin = ServerAdmin(tracking_uri)
    try:
        records = Records(client, competition)
        teams, note = _teams(client, records, admin, competition)
        every_run = _every_run(client, list(teams))
        verdicts = records.verdicts()
        submissions = records.submissions()
        report = Report([], note=note)
        report.restored = restore_tags(client, every_run, verdicts)
        report.submissions = record_submissions(records, every_run, teams, submissions, per_day)
    except MlflowException as error:
        raise TrackingError(f"Cannot read the competition at {tracking_uri}: {error}") from None
    submissions += report.submissions
    latest = {s.run_id: s for s in submissions if not s.refused}  # each run's latest
    runs = {run.info.run_id: run for run in every_run}
    new = [runs[run_id] for run_id in latest if run_id in runs and run_id not in verdicts]
    if new:
        models = _models_by_run(client, {run.info.run_id: run.info.experiment_id for run in new})
        # Earliest model first: when two teams hold the same weights, the first one logged ranks.
        new.sort(key=lambda r: getattr(models.get(r.info.run_id), "creation_timestamp", 0))
        seen: dict[str, Verdict] = {}
        for earlier in sorted(verdicts.values(), key=lambda v: v.created):
            _remember(seen, earlier)
        with Evaluator(data_root, limits) as evaluator, tempfile.TemporaryDirectory() as tmp:
            for run in new:
                team_id = run.info.experiment_id
                try:
                    verdict = _verify(
                        run, teams[team_id], models.get(run.info.run_id), client, evaluator,
                        seen, Path(tmp), limits, tracking_uri,
                    )  # fmt: skip
                    verdict = records.write(verdict)
                    write_tags(client, run.info.run_id, verdict)
                except ReproMLError:  # the instructor's side (no test set): stop and say so
                    raise
                except Exception as error:  # the store, or worse: tried again, TRIES times
                    verdict = _after_a_failed_try(run, teams, error, records, latest, report)
                    if verdict is None:
                        continue
                verdicts[verdict.run_id] = verdict
                report.new.append(verdict)
                _remember(seen, verdict)
    report.verdicts = leaderboard_rows(_without_deleted(client, verdicts), submissions)
    report.seconds = time.perf_counter() - started
    return report


def read_leaderboard(tracking_uri: str, competition: str = COMPETITION) -> list[Verdict]:
    """The leaderboard, best first: what a student sees. Loads no model."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    check_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    try:
        records = Records(client, competition)
        verdicts = _without_deleted(client, records.verdicts())
        return leaderboard_rows(verdicts, records.submissions())
    except MlflowException as error:
        raise TrackingError(f"Cannot read the leaderboard at {tracking_uri}: {error}") from None


def _after_a_failed_try(run, teams, error, records, latest, report) -> Verdict | None:
    """A try to verify ``run`` raised (the store failed, or something no limit caught): it is
    tried again at the next pass, TRIES times in all, then flagged, so that no run makes every
    later pass start on it again."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
    attempts = records.count_attempt(latest[run.info.run_id])
    if attempts < TRIES:
        report.pending.append(f"{run.info.run_id}: not verified yet, try {attempts} ({reason})")
        return None
    verdict = Verdict(
        run_id=run.info.run_id, team=teams[run.info.experiment_id],
        team_id=run.info.experiment_id, run_name=run.info.run_name or "",
        user=run.info.user_id or "", logged=math.nan, verified=math.nan,
        problem=f"it could not be verified in {TRIES} tries ({reason})",
    )  # fmt: skip
    verdict = records.write(verdict)
    write_tags(records.client, run.info.run_id, verdict)
    return verdict


def _without_deleted(client, verdicts: dict[str, Verdict]) -> list[Verdict]:
    """A run its team deleted leaves the leaderboard (its verdict stays in the records, and
    comes back with the run if it is restored from MLflow's trash)."""
    from mlflow.entities import ViewType

    teams = sorted({v.team_id for v in verdicts.values() if v.team_id})
    if not teams:
        return list(verdicts.values())
    deleted = {
        run.info.run_id
        for run in client.search_runs(
            teams, run_view_type=ViewType.DELETED_ONLY, max_results=50_000
        )
    }
    return [v for run_id, v in verdicts.items() if run_id not in deleted]


def _teams(client, records: Records, admin: ServerAdmin, competition: str):
    """{experiment id: team name}, and a note for the instructor when something is off."""
    if admin.has_accounts():
        records.check_owner(admin)
        teams = records.teams()
        if not teams:
            return {}, (
                "No team recorded yet: teams are the experiments `reproml-course accounts` "
                "created, and nothing else is ranked."
            )
        return teams, None
    # A local store, or a server without accounts: anyone may write anything anyway.
    experiments = client.search_experiments(filter_string=f"name LIKE '{competition}/%'")
    return {e.experiment_id: e.name.removeprefix(f"{competition}/") for e in experiments}, None


def _every_run(client, experiment_ids: list[str]) -> list:
    """Every run the teams can see, whatever its status: the finished ones are verified, and
    verdict tags may be forged on any."""
    if not experiment_ids:
        return []
    return client.search_runs(experiment_ids, max_results=50_000)
