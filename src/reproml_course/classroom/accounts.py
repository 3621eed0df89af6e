"""Student accounts on the class server, from a CSV file, with one experiment per team.

MLflow's permissions are per experiment: whoever may edit an experiment may edit every run in
it. So each team logs to an experiment of its own, ``<competition>/<team>``, on which only its
members get EDIT; everyone reads everything (the server's default), so the leaderboard sees all
runs and nobody can change another team's. A student without a team is a team of one.

A team *is* the experiment made for it, recorded by id where only the admin writes
(``records``): a student who creates ``competition/<team>`` before the instructor adds that
team is refused, not adopted (MLflow makes the creator its manager, who could then delete the
team's runs or lock its members out), and renaming an experiment fools nobody.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml.tracking.stores import COMPETITION, team_experiment

__all__ = ["COMPETITION", "Account", "create_accounts", "read_accounts", "team_experiment"]
MIN_PASSWORD = 12
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    team: str


def read_accounts(path: Path) -> list[Account]:
    """Parse and validate the whole file before anything is created on the server."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
            columns = set(rows[0]) if rows else set()
    except OSError as error:
        raise ReproMLError(f"Cannot read {path}: {error.strerror}.") from None
    if not {"username", "password"} <= columns:
        raise ReproMLError(
            f"{path} needs a header line with the columns username,password (and optionally "
            f"team); found {sorted(c for c in columns if c) or 'no rows'}."
        )
    accounts, seen = [], set()
    for line, row in enumerate(rows, start=2):
        username = (row.get("username") or "").strip()
        password = row.get("password") or ""
        team = (row.get("team") or "").strip() or username
        problem = None
        if not NAME.match(username):
            problem = f"username {username!r} must be letters, digits, '.', '_' or '-'"
        elif len(password) < MIN_PASSWORD:
            problem = f"the password must have {MIN_PASSWORD} characters or more (MLflow's rule)"
        elif not NAME.match(team):
            problem = f"team {team!r} must be letters, digits, '.', '_' or '-'"
        elif username in seen:
            problem = f"username {username!r} appears twice"
        if problem:
            raise ReproMLError(f"{path}, line {line}: {problem}. Nothing was created.")
        seen.add(username)
        accounts.append(Account(username, password, team))
    if not accounts:
        raise ReproMLError(f"{path} lists no accounts.")
    return accounts


def create_accounts(
    tracking_uri: str, accounts: list[Account], competition: str = COMPETITION
) -> list[str]:
    """Create the users, their teams' experiments and permissions (as the admin, whose name
    and password come from ``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``).
    Existing users get the password of the file. Every team is checked before anything is
    created. A team whose experiment someone else made is refused, with its members, and the
    others are created: a student cannot hold the whole class's accounts back by squatting one
    name. Returns one line per account; raises after creating the others if any was refused."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    from reproml_course.classroom.admin import ServerAdmin
    from reproml_course.classroom.records import Records

    admin = ServerAdmin(tracking_uri)
    if not admin.has_accounts():
        raise ReproMLError(
            f"{tracking_uri} has no accounts: start the class server with "
            "`reproml-course server`, and give its address."
        )
    auth, client = AuthServiceClient(tracking_uri), MlflowClient(tracking_uri)
    members: dict[str, set[str]] = {}
    for account in accounts:
        members.setdefault(account.team, set()).add(account.username)
    try:
        records = Records(client, competition)
        records.check_owner(admin)
        records.create()  # before any student exists: nobody else can have made it
        plan, refused = _team_experiments(client, admin, records, members, competition)
        report = []
        for account in accounts:
            if account.team in refused:
                continue
            if _new(auth.create_user, account.username, account.password):
                status = "created"
            else:
                auth.update_user_password(account.username, account.password)
                status = "existed, password updated"
            name = team_experiment(account.team, competition)
            if plan[account.team] is None:
                plan[account.team] = client.create_experiment(name)
                records.record_team(plan[account.team], account.team)
            experiment_id = plan[account.team]
            if experiment_id not in records.teams():
                records.record_team(experiment_id, account.team)
            if client.get_experiment(experiment_id).name != name:  # renamed by its team
                client.rename_experiment(experiment_id, name)
            _new(auth.grant_user_permission, account.username, "experiment", experiment_id, "EDIT")
            report.append(f"{account.username}: {status}, logs to experiment {name!r}")
    except MlflowException as error:
        raise ReproMLError(f"The server refused: {error.message.splitlines()[0]}") from None
    if refused:
        left_out = sorted(a.username for a in accounts if a.team in refused)
        raise ReproMLError(
            "\n".join(report)
            + ("\n" if report else "")
            + "These experiments exist but were not made by `reproml-course accounts`: "
            + "; ".join(refused.values())
            + f". Not created: {', '.join(left_out)}. Delete those experiments as the admin "
            "(or choose another --competition), then run again: the others are done."
        )
    return report


def _team_experiments(
    client, admin, records, members, competition
) -> tuple[dict[str, str | None], dict[str, str]]:
    """{team: its experiment id, or None to create}, and {team: why it is refused} for the
    teams whose name someone else took."""
    recorded = {name: experiment_id for experiment_id, name in records.teams().items()}
    plan, problems = {}, {}
    for team, usernames in members.items():
        if team in recorded:
            plan[team] = recorded[team]
            continue
        name = team_experiment(team, competition)
        existing = client.get_experiment_by_name(name)
        if existing is None:
            plan[team] = None
            continue
        experiment_id = existing.experiment_id
        strangers = [
            f"{grant.username} ({grant.permission})"
            for grant in admin.experiment_writers(experiment_id)
            if grant.permission == "MANAGE" or grant.username not in usernames
        ]
        if experiment_id in records.teams():
            problems[team] = f"{name!r} is team {records.teams()[experiment_id]!r}'s, renamed"
        elif existing.lifecycle_stage != "active":
            problems[team] = f"{name!r} is a deleted experiment (restore it or `mlflow gc` it)"
        elif strangers:
            problems[team] = f"{name!r} was made by someone else: {', '.join(strangers)} may write"
        elif client.search_runs([experiment_id], max_results=1, run_view_type=3):
            problems[team] = f"{name!r} already holds runs, logged before the team existed"
        else:  # empty, and only the admin may write: made by an interrupted earlier call
            plan[team] = experiment_id
    return plan, problems


def _new(create, *args: str) -> bool:
    """Call ``create``; False when what it creates exists already (a second run of the file)."""
    from mlflow.exceptions import RestException

    try:
        create(*args)
    except RestException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return False
    return True
