"""The class server the tests start (``conftest.server``): its admin, its students."""

import subprocess
import time
import urllib.request

ADMIN_PASSWORD = "admin-password-for-tests"
STUDENTS = {"alice": "red", "bob": "blue", "carol": "green"}


def password(user: str) -> str:
    return f"{user}-secret-password"


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
