"""Student accounts on the class server, from a CSV file, with one experiment per team.

MLflow's permissions are per experiment: whoever may edit an experiment may edit every run in
it. So each team logs to an experiment of its own, ``<competition>/<team>``, on which only its
members get EDIT; everyone reads everything (the server's default), so the leaderboard sees all
runs and nobody can change another team's. A student without a team is a team of one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from reproml.errors import ReproMLError

COMPETITION = "competition"
MIN_PASSWORD = 12
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    team: str


def team_experiment(team: str, competition: str = COMPETITION) -> str:
    return f"{competition}/{team}"


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
    Existing users get the password of the file. Returns one line per account."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    auth, client = AuthServiceClient(tracking_uri), MlflowClient(tracking_uri)
    report = []
    try:
        for account in accounts:
            if _new(auth.create_user, account.username, account.password):
                status = "created"
            else:
                auth.update_user_password(account.username, account.password)
                status = "existed, password updated"
            name = team_experiment(account.team, competition)
            experiment = client.get_experiment_by_name(name)
            experiment_id = (
                experiment.experiment_id if experiment else client.create_experiment(name)
            )
            _new(auth.grant_user_permission, account.username, "experiment", experiment_id, "EDIT")
            report.append(f"{account.username}: {status}, logs to experiment {name!r}")
    except MlflowException as error:
        raise ReproMLError(f"The server refused: {error.message.splitlines()[0]}") from None
    return report


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
