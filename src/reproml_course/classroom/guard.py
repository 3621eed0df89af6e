"""The class server's guard: MLflow's basic-auth app with checks of its own in front.

``reproml-course server`` starts ``mlflow server --app-name reproml-class``, which MLflow finds
through this package's ``mlflow.app`` entry point. ``create_app`` adds the first check below to
MLflow's Flask app before handing it to MLflow's own ``mlflow.server.auth.create_app`` (Flask
runs before-request hooks in the order they were added, so it runs before MLflow's permission
check), and wraps what that returns, the FastAPI app uvicorn serves, in ``Guard`` for the
others: FastAPI's own routes (artifact uploads and downloads) never reach Flask's hooks.

- **One reading of a write request.** MLflow's permission check and its handler do not always
  read a request's fields from the same place: for a DELETE without a JSON content type, the
  check reads the query string and the handler the body, so ``?name=<mine>`` with a body naming
  another student's model deleted theirs (registered models, their tags, aliases, versions,
  prompts). A write to the REST API whose body is not JSON, or that names fields both in its
  query string and in its body, is refused (400).
- **Failed logins slowed.** After ``FAILED_PER_USER`` wrong passwords for one name from one
  address (or ``FAILED_PER_ADDRESS`` for any names from one address) within ``WINDOW`` seconds,
  that name from that address (or that address) gets 429 until the window has passed; a right
  password clears the name's count. Counted per address, so that a classmate guessing
  elsewhere cannot lock a student out.
- **A changed password stops working at once.** MLflow caches a checked password in each
  worker for ``auth_cache_ttl_seconds`` and forgets it, on a password change, only in the
  worker that served the change. Each worker here reads the user's stored password hash before
  MLflow's check (one indexed query) and drops its cached entry when the hash has changed.
- **A storage quota.** An artifact upload must say its size (Content-Length); a file over
  ``REPROML_MAX_UPLOAD_MB`` (default 100), or one that would take a team's experiment past
  ``REPROML_QUOTA_MB`` (default 500) in the server's artifact folder, is refused (413).

The counts are kept per worker process (``reproml-course server`` starts 2): the limits hold
per worker.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import parse_qs

FAILED_PER_USER, FAILED_PER_ADDRESS, WINDOW = 5, 60, 60.0
API_PATH = re.compile(r"/(ajax-)?api/\d+\.\d+/mlflow/")
UPLOAD_PATH = re.compile(r"/(ajax-)?api/\d+\.\d+/mlflow-artifacts/artifacts/(?P<path>.+)")
UI_UPLOAD = re.compile(r"/ajax-api/\d+\.\d+/mlflow/upload-artifact$")
# Not JSON by design, and read from one place by check and handler alike: MLflow's sign-up page
# posts a form; the UI's upload sends the file as the body, its run and path in the query.
RAW_BODIES = ("/mlflow/users/create-ui", "/mlflow/upload-artifact")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ARTIFACTS_ENV, QUOTA_ENV, MAX_UPLOAD_ENV = (
    "REPROML_ARTIFACTS_DESTINATION", "REPROML_QUOTA_MB", "REPROML_MAX_UPLOAD_MB",
)  # fmt: skip


def create_app(app=None):
    """``mlflow server --app-name reproml-class``: the guard, then MLflow's basic-auth app."""
    from mlflow.server import app as mlflow_app
    from mlflow.server.auth import create_app as create_auth_app

    app = app or mlflow_app
    app.before_request(refuse_two_readings)
    served = create_auth_app(app)
    # Under uvicorn (MLflow's default) MLflow serves a FastAPI app, whose own routes (artifact
    # uploads and downloads among them) never reach Flask's hooks: the rest of the guard wraps
    # the whole of it.
    return Guard(served) if not hasattr(served, "wsgi_app") else served


class FailedLogins:
    """Failed logins per name and per address in the last WINDOW seconds (one worker's)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self.times[key]
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return times

    def wait(self, user: str, address: str, now: float) -> float:
        """Seconds until ``user`` from ``address`` may try again (0: now)."""
        limits = {
            f"user:{user}@{address}": FAILED_PER_USER,
            f"address:{address}": FAILED_PER_ADDRESS,
        }
        with self.lock:
            recent = {key: self._recent(key, now) for key in limits}
            for key, times in recent.items():
                if not times:  # names tried once, long ago: forgotten
                    self.times.pop(key, None)
        waits = [t[0] + WINDOW - now for key, t in recent.items() if len(t) >= limits[key]]
        return max(waits, default=0.0)

    def failed(self, user: str, address: str, now: float) -> None:
        with self.lock:
            for key in (f"user:{user}@{address}", f"address:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, user: str, address: str) -> None:
        with self.lock:
            self.times.pop(f"user:{user}@{address}", None)


FAILED = FailedLogins()
_password_hashes: dict[str, str | None] = {}
_hashes_lock = threading.Lock()


class Guard:
    """ASGI middleware around MLflow's app: logins counted, cached passwords checked, uploads
    measured, before MLflow authenticates anything."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        import anyio

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        user = _basic_user(headers.get("authorization", ""))
        address = (scope.get("client") or ("", 0))[0]
        if user:
            wait = FAILED.wait(user, address, time.monotonic())
            if wait > 0:
                return await _answer(send, 429, f"Too many wrong passwords for {user!r}: try "
                                     f"again in {wait:.0f} s.", round(wait))  # fmt: skip
            await anyio.to_thread.run_sync(_forget_a_changed_password, user)
        refusal = await anyio.to_thread.run_sync(
            _over_quota, scope["method"], scope["path"], headers.get("content-length"),
            scope.get("query_string", b"").decode("latin-1"),
        )  # fmt: skip
        if refusal is not None:
            return await _answer(send, *refusal)

        async def counting_send(message):
            if user and message["type"] == "http.response.start":
                if message["status"] == 401:
                    FAILED.failed(user, address, time.monotonic())
                elif message["status"] < 400:
                    FAILED.succeeded(user, address)
            await send(message)

        return await self.app(scope, receive, counting_send)


def _basic_user(authorization: str) -> str:
    import base64
    import binascii

    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""


async def _answer(send, status: int, message: str, retry_after: int = 0) -> None:
    import json

    codes = {400: "INVALID_PARAMETER_VALUE", 411: "INVALID_PARAMETER_VALUE",
             413: "RESOURCE_EXHAUSTED", 429: "RESOURCE_EXHAUSTED"}  # fmt: skip
    body = json.dumps({"error_code": codes[status], "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", str(max(1, retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _forget_a_changed_password(username: str) -> None:
    import mlflow.server.auth as auth
    from mlflow.server.auth.db.models import SqlUser

    with auth.store.ManagedSessionMaker() as session:
        stored = session.query(SqlUser.password_hash).filter(SqlUser.username == username).scalar()
    with _hashes_lock:
        changed = username in _password_hashes and _password_hashes[username] != stored
        _password_hashes[username] = stored
    if changed:
        auth._invalidate_user_auth_cache(username)


def refuse_two_readings():
    """Flask before-request hook (see the module's text); None lets the request go on."""
    from flask import jsonify, request

    problem = _two_readings(request)
    if problem is None:
        return None
    response = jsonify({"error_code": "INVALID_PARAMETER_VALUE", "message": problem})
    response.status_code = 400
    return response


def _two_readings(request) -> str | None:
    if request.method not in WRITES or not API_PATH.search(request.path):
        return None
    if request.path.endswith(RAW_BODIES):
        return None
    body = request.get_data(cache=True)
    if not body.strip():
        return None
    if not request.is_json:
        return (
            "A write request's body must be JSON (Content-Type: application/json): MLflow's "
            "permission check and its handler would read its fields from different places."
        )
    if not isinstance(request.get_json(silent=True), dict):
        return "A write request's body must be a JSON object."
    if request.args:
        return (
            "A write request names its fields in its JSON body only, not also in its query "
            f"string ({', '.join(sorted(request.args))[:200]})."
        )
    return None


def _over_quota(method: str, path: str, length: str | None, query: str) -> tuple[int, str] | None:
    """(status, message) when an upload is refused. Two ways upload files: the artifact
    proxy's PUT (the path starts with the experiment id) and the UI's POST (a run id)."""
    destination = os.environ.get(ARTIFACTS_ENV)
    found = UPLOAD_PATH.search(path) if method == "PUT" else None
    if found is not None:
        experiment = found["path"].split("/", 1)[0]
    elif method == "POST" and UI_UPLOAD.search(path):
        experiment = _experiment_of_run(parse_qs(query).get("run_uuid", [""])[0])
    else:
        return None
    if not destination:
        return None
    if length is None or not length.isdigit():
        return 411, "An upload must say its size (Content-Length)."
    size, most = int(length), _megabytes(MAX_UPLOAD_ENV, 100)
    if size > most:
        return 413, (f"This file is {size / 1e6:.3g} MB: the class server takes files of at "
                     f"most {most / 1e6:.3g} MB.")  # fmt: skip
    quota = _megabytes(QUOTA_ENV, 500)
    used = _folder_bytes(Path(destination) / experiment) if experiment.isdigit() else 0
    if used + size > quota:
        return 413, (
            f"This file would take experiment {experiment} past its {quota / 1e6:.3g} MB quota "
            "on the class server. Delete runs you do not need, and ask your instructor."
        )
    return None


def _experiment_of_run(run_id: str) -> str:
    from mlflow.exceptions import MlflowException
    from mlflow.server.handlers import _get_tracking_store

    try:
        return _get_tracking_store().get_run(run_id).info.experiment_id
    except MlflowException:
        return ""  # MLflow answers for a run that does not exist


def _megabytes(variable: str, default: int) -> int:
    try:
        return int(float(os.environ.get(variable, default)) * 1_000_000)
    except ValueError:
        return default * 1_000_000


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
