"""The class MLflow server: ``mlflow server`` with MLflow's basic-auth app, set up for a class.

Everything it keeps lives in one folder (``class_server/`` by default, git-ignored): the runs
(SQLite, unless another SQLAlchemy URI is given, e.g. PostgreSQL), the users and permissions
(``auth.db``), the artifacts (served by the server itself, so students need no shared disk),
the auth configuration and the admin password. The folder and everything the server writes in
it are readable by their owner only (the password hashes and every student's models are
there), and the runs database's URI reaches the server through its environment, not its
command line, where ``ps`` would show a PostgreSQL password to every user of the machine.
MLflow has no default admin password: it creates the admin on the first start with the one we
pass, generated unless given.
Every user may read every experiment (``default_permission = READ``), so everyone sees the
leaderboard; writing needs a permission on the experiment (see ``classroom/accounts.py``).
Checked passwords are cached for a minute: without it every request pays a deliberately slow
password hash, and 50 students logging at once took 7.3 minutes instead of 1.2 (see
benchmarks/README.md).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml.tracking.stores import sqlite_path, store_kind
from reproml_course.classroom.guard_quota import ARTIFACTS_ENV

ADMIN = "admin"
GUARDED_APP = "reproml-class"  # MLflow's basic-auth app behind reproml's guard (guard.py)
AUTH_INI = """\
[mlflow]
default_permission = READ
database_uri = sqlite:///{auth_db}
admin_username = {admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 60
"""


@dataclass(frozen=True)
class ClassServer:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 5000
    store: str | None = None  # a SQLAlchemy URI; default: folder/mlflow.db
    allowed_hosts: str | None = None  # MLflow's default: localhost and private addresses

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def password_file(self) -> Path:
        return self.folder / "admin_password.txt"

    def admin_password(self) -> str:
        """The admin's password: ``$REPROML_ADMIN_PASSWORD``, else the saved or a new one."""
        return os.environ.get("REPROML_ADMIN_PASSWORD") or self._secret(self.password_file)

    def _secret(self, path: Path) -> str:
        """A random secret kept in ``path`` (readable by its owner only) across restarts."""
        if path.is_file():
            return path.read_text().strip()
        secret = secrets.token_urlsafe(12)
        self.make_folder()
        path.touch(mode=0o600)
        path.write_text(secret + "\n")
        return secret

    def make_folder(self) -> None:
        """The server's folder, and what is in it already, for its owner's eyes only."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in [self.folder, *self.folder.rglob("*")]:
            if not path.is_symlink():
                path.chmod((path.stat().st_mode & 0o700) | (0o700 if path.is_dir() else 0o600))

    @property
    def store_uri(self) -> str:
        """Where the runs are kept: ``store``, else ``mlflow.db`` in the folder."""
        return self.store or f"sqlite:///{(self.folder / 'mlflow.db').resolve()}"

    @property
    def auth_db(self) -> Path:
        return (self.folder / "auth.db").resolve()

    def sqlite_files(self) -> list[Path]:
        """The SQLite databases the server writes: the users, and the runs when in SQLite."""
        runs = [sqlite_path(self.store_uri)] if store_kind(self.store_uri) == "sqlite" else []
        return [self.auth_db, *runs]

    def command(self) -> list[str]:
        command = [
            sys.executable, "-m", "mlflow", "server",
            "--app-name", GUARDED_APP,
            "--artifacts-destination", str((self.folder / "artifacts").resolve()),
            "--host", self.host,
            "--port", str(self.port),
            "--workers", "2",
        ]  # fmt: skip
        if self.allowed_hosts:
            command += ["--allowed-hosts", self.allowed_hosts]
        return command

    def environment(self) -> dict[str, str]:
        self.make_folder()
        ini = self.folder / "basic_auth.ini"
        ini.write_text(AUTH_INI.format(auth_db=self.auth_db, admin=ADMIN))
        return {
            **os.environ,
            # `mlflow server --backend-store-uri` reads it from here: no password in `ps`.
            "MLFLOW_BACKEND_STORE_URI": self.store_uri,
            "MLFLOW_AUTH_CONFIG_PATH": str(ini.resolve()),
            "MLFLOW_AUTH_ADMIN_USERNAME": ADMIN,
            "MLFLOW_AUTH_ADMIN_PASSWORD": self.admin_password(),
            # The auth app's CSRF protection signs with it; the same key across restarts.
            "MLFLOW_FLASK_SERVER_SECRET_KEY": self._secret(self.folder / "secret_key.txt"),
            # A class needs no GenAI job runner: on by default, it starts several more
            # Python processes that compete with the students' requests on a small machine.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            # Each worker serves up to 40 requests at once (anyio's thread limit) and
            # SQLAlchemy's default pool holds 15 connections: with 50 students on a slow disk
            # the others waited 30 s for a connection and failed ("QueuePool limit reached").
            "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "10",
            "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "30",
            # The guard's storage quota counts each team's files in this folder (guard.py).
            ARTIFACTS_ENV: str((self.folder / "artifacts").resolve()),
        }

    def start(self, log: Path | None = None, timeout: float = 120) -> subprocess.Popen:
        """Start the server and return once it answers (or raise with its last log lines)."""
        self._check_port_free()
        log = log or self.folder / "server.log"
        for database in self.sqlite_files():
            use_write_ahead_log(database)
            database.chmod(0o600)
        env = self.environment()
        with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as output:
            process = subprocess.Popen(
                self.command(), env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers stop with it
                umask=0o077,  # databases, artifacts and logs it creates: owner only
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        try:
            while not _answers(self.url):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                    raise ReproMLError(
                        f"The MLflow server did not start (see {log}):\n" + "\n".join(tail)
                    )
                time.sleep(0.5)
        except BaseException:  # Ctrl-C or SIGTERM while it starts too: no server left behind
            stop(process)
            raise
        return process

    def _check_port_free(self) -> None:
        if _answers(self.url):
            raise ReproMLError(
                f"Something already answers at {self.url}: stop it, or choose another --port."
            )


def use_write_ahead_log(database: Path) -> None:
    """Switch a SQLite file (created if missing) to write-ahead logging, which it keeps.

    In SQLite's default mode a reader blocks a writer and every commit syncs the disk several
    times; with 50 students logging at once, requests queued behind each other until they
    timed out. With a write-ahead log readers never wait and a commit is one append.
    """
    import sqlite3

    database.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop the server and its worker processes."""
    import signal

    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
