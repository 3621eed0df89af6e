"""What only the class server's admin may read: its users, and who may write where.

MLflow's basic-auth app answers these over REST (``/users/list``, ``/users/permissions/list``),
but its Python client has no method for them; the requests are made here with the admin's
credentials from the environment, as MLflow's own client would. Imports no MLflow.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from reproml.base.errors import ReproMLError
from reproml.tracking.stores import PASSWORD_ENV, USER_ENV, authorized_request, is_server

WRITE = ("EDIT", "MANAGE")  # what lets a user change an experiment's runs, or the experiment


@dataclass(frozen=True)
class Grant:
    username: str
    permission: str


class ServerAdmin:
    """The admin's view of the users and permissions at ``uri`` (a class server)."""

    def __init__(self, uri: str, timeout: float = 30) -> None:
        self.uri, self.timeout = uri.rstrip("/"), timeout

    def has_accounts(self) -> bool:
        """Whether the store checks who writes: a server with MLflow's basic-auth app. A local
        store, or a server without accounts, lets anyone write anything."""
        if not is_server(self.uri):
            return False
        try:
            self._get("/api/2.0/mlflow/users/list")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return False
            if error.code in (401, 403):
                raise ReproMLError(
                    f"{self.uri} has accounts, and this needs the admin's: set {USER_ENV} and "
                    f"{PASSWORD_ENV} to the admin's name and password."
                ) from None
            raise
        return True

    def users(self) -> dict[str, bool]:
        """Every user name, with whether that user is an admin."""
        users = self._get("/api/2.0/mlflow/users/list")["users"]
        return {user["username"]: bool(user["is_admin"]) for user in users}

    def experiment_writers(self, experiment_id: str) -> list[Grant]:
        """The users other than admins who may write to the experiment, and with what.

        MLflow grants MANAGE on an experiment to whoever created it, so a student who created
        it shows up here; so does anyone that student let in.
        """
        writers = []
        for username, is_admin in self.users().items():
            if is_admin:
                continue
            rows = self._get("/api/3.0/mlflow/users/permissions/list", {"username": username})[
                "permissions"
            ]
            granted = {
                row["permission"]
                for row in rows
                if row["resource_type"] == "experiment"
                and row["resource_pattern"] in (experiment_id, "*")
                and row["permission"] in WRITE
            }
            if granted:
                best = "MANAGE" if "MANAGE" in granted else "EDIT"
                writers.append(Grant(username, best))
        return writers

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict:
        url = self.uri + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(authorized_request(url), timeout=self.timeout) as response:
            return json.load(response)
