"""Processes on Linux, read from /proc: the tests and benchmarks that start servers (Jupyter,
MLflow) find what those started, and measure their memory. Standard library only: the browser
benchmark runs it from a Python without the course's dependencies."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes that share them, so the
    sizes of several processes add up to what they use together."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_of(leader: int) -> list[int]:
    """The processes of the process group ``leader`` started (``start_new_session=True``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == leader:
                    found.append(int(entry.name))
            except ProcessLookupError:
                pass
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a kernel, a proxied server), wherever their session."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (now: take it soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(url: str, timeout: float = 120.0, any_status: bool = True) -> float:
    """Seconds until ``url`` answers HTTP (with 2xx unless ``any_status``); TimeoutError after
    ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return time.monotonic() - started
        except urllib.error.HTTPError:
            if any_status:
                return time.monotonic() - started
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def group_pss_mib(leader: int) -> float:
    return sum(pss_kib(pid) for pid in group_of(leader)) / 1024


def has_module(pid: int, name: str) -> bool:
    """Whether the process mapped a file of package ``name`` (e.g. torch's shared libraries)."""
    try:
        return f"/{name}/" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
