"""The class server's guard on logins (``guard``): failed logins counted per name and per
address and slowed with 429 once too many fall in a window, and a changed password made to stop
working at once, though MLflow caches a checked password in each worker. Both are kept per
worker process."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

FAILED_PER_USER, FAILED_PER_ADDRESS, WINDOW = 5, 60, 60.0


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
