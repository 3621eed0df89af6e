"""A check's time budget: the student's code is stopped when the whole check has run
longer than a correct answer ever takes, with an exception their own ``except`` clauses do not
swallow, so that a loop that never ends reads as a failure with a hint, not a notebook that
hangs."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class OverBudget(BaseException):
    """Raised in the check's thread when its time budget is spent. A BaseException, so that
    a student's ``except Exception`` does not swallow it; raised again every second, so that
    a bare ``except:`` does not either."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Stop the block after ``seconds`` (SIGALRM, where the platform and thread allow it; a
    child process that is being waited for is killed by ``subprocess.run`` on the way out)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
