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
  query string and in its body, is refused (400). (``guard_writes``)
- **Failed logins slowed.** After ``FAILED_PER_USER`` wrong passwords for one name from one
  address (or ``FAILED_PER_ADDRESS`` for any names from one address) within ``WINDOW`` seconds,
  that name from that address (or that address) gets 429 until the window has passed; a right
  password clears the name's count. Counted per address, so that a classmate guessing
  elsewhere cannot lock a student out. (``guard_logins``)
- **A changed password stops working at once.** MLflow caches a checked password in each
  worker for ``auth_cache_ttl_seconds`` and forgets it, on a password change, only in the
  worker that served the change. Each worker here reads the user's stored password hash before
  MLflow's check (one indexed query) and drops its cached entry when the hash has changed.
  (``guard_logins``)
- **A storage quota.** An artifact upload must say its size (Content-Length); a file over
  ``REPROML_MAX_UPLOAD_MB`` (default 100), or one that would take a team's experiment past
  ``REPROML_QUOTA_MB`` (default 500) in the server's artifact folder, is refused (413).
  (``guard_quota``)

The counts are kept per worker process (``reproml-course server`` starts 2): the limits hold
per worker.
"""

from __future__ import annotations

import time

from reproml_course.classroom.guard_logins import FAILED, _basic_user, _forget_a_changed_password
from reproml_course.classroom.guard_quota import _over_quota
from reproml_course.classroom.guard_writes import refuse_two_readings


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
