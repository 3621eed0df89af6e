"""The MLflow tile's launcher, in front of a real HTTP server that takes two seconds to start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from reproml_course.base.processes import descendants

LATE_SERVER = (
    "import functools, http.server, pathlib, sys, time\n"
    "while not (pathlib.Path(sys.argv[2]) / 'go').exists(): time.sleep(0.05)\n"
    "handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2]); "
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), handler).serve_forever()"
)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_it_answers_at_once_then_relays_and_stops_what_it_started(tmp_path, free_port):
    (tmp_path / "page.html").write_text("the real server")
    port = free_port()
    launcher = subprocess.Popen([
        sys.executable, "-m", "reproml_course.classroom.mlflow_launch", str(port), "--",
        sys.executable, "-c", LATE_SERVER, "PRIVATE_PORT", str(tmp_path),
    ])  # fmt: skip
    try:
        started = time.monotonic()
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/page.html")
                break
            except OSError:
                assert time.monotonic() - started < 10, "the launcher did not listen"
                time.sleep(0.05)
        # the server waits for the test's word: an answer now is the launcher's own, whatever
        # the machine's load (no wall-clock bound that a busy machine could break)
        assert status == 503 and "MLflow is starting" in body
        assert "location.reload()" in body  # the page reloads itself, fragment or not
        (tmp_path / "go").touch()

        while (answer := get(f"http://127.0.0.1:{port}/page.html"))[0] != 200:
            assert time.monotonic() - started < 20, answer
            time.sleep(0.2)
        assert answer == (200, "the real server")
        assert get(f"http://127.0.0.1:{port}/missing")[0] == 404  # relayed as it is
        server_pids = descendants(launcher.pid)[1:]
        assert server_pids
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=20)
    time.sleep(0.5)
    assert not [pid for pid in server_pids if alive(pid)]


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to read its status."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(url: str, wanted: int, seconds: float) -> tuple[int, str]:
    started = time.monotonic()
    while True:
        try:
            answer = get(url)
            if answer[0] == wanted:
                return answer
        except OSError:
            pass
        assert time.monotonic() - started < seconds, f"{url} never answered {wanted}"
        time.sleep(0.1)


def test_a_killed_server_is_started_again_and_the_tile_keeps_working(tmp_path, free_port):
    """What the out-of-memory killer does on Binder: the server dies. The tile answered 500 for
    good; now the launcher starts it again."""
    (tmp_path / "page.html").write_text("the real server")
    (tmp_path / "go").touch()
    port = free_port()
    launcher = subprocess.Popen([
        sys.executable, "-m", "reproml_course.classroom.mlflow_launch", str(port), "--",
        sys.executable, "-c", LATE_SERVER, "PRIVATE_PORT", str(tmp_path),
    ], stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/page.html"
        wait_for(url, 200, 20)
        (first,) = descendants(launcher.pid)[1:]
        os.kill(first, signal.SIGKILL)
        assert wait_for(url, 200, 20) == (200, "the real server")
        (second,) = descendants(launcher.pid)[1:]
        assert second != first and launcher.poll() is None
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=20)
    assert "MLflow stopped (status -9): starting it again." in launcher.stderr.read()


def test_a_server_that_keeps_dying_is_given_up(free_port):
    port = free_port()
    launcher = subprocess.run(
        [sys.executable, "-m", "reproml_course.classroom.mlflow_launch", str(port), "--",
         sys.executable, "-c", "import sys; sys.exit(3)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert launcher.returncode == 3
    assert launcher.stderr.count("starting it again") == 5
