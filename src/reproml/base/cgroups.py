"""The limits a container puts on this process, read from its cgroups (v1 and v2): a CPU
quota and a memory limit. Standard library only.

Where a process sits in a sub-group (``systemd-run``, a JupyterHub spawner's slice, a pod
without a cgroup namespace), the limit is on its own group or one above it, not on the root of
the cgroup mount that libraries read (joblib's ``cpu_count``): this reads every group from the
process's own up to the root and keeps the smallest limit.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
MEMBERSHIP = Path("/proc/self/cgroup")


def cpu_quota(root: Path = ROOT, membership: Path = MEMBERSHIP) -> float | None:
    """The smallest CPU quota (in CPUs) on the path from this process's cgroup to the root.

    cgroup v2's ``cpu.max`` holds "quota period" or "max period"; v1's ``cpu.cfs_quota_us``
    is -1 where there is none."""
    return _smallest(root, membership, "cpu", _read_cpu_max, _read_cfs_quota)


def memory_limit(root: Path = ROOT, membership: Path = MEMBERSHIP) -> int | None:
    """The smallest memory limit (bytes) on the path from this process's cgroup to the root.

    cgroup v2's ``memory.max`` says "max" where there is none, v1 a huge number."""
    return _smallest(
        root, membership, "memory",
        lambda folder: _read_bytes(folder / "memory.max"),
        lambda folder: _read_bytes(folder / "memory.limit_in_bytes"),
    )  # fmt: skip


def _smallest(root: Path, membership: Path, controller: str, read_v2, read_v1):
    """The smallest value ``read_v2`` (cgroup v2) or ``read_v1`` (the v1 hierarchy that holds
    ``controller``) finds in the process's groups and those above them; None if none."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    found = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            for base in _v2_roots(root):
                found += _limits_up(base, path, read_v2)
        elif controller in controllers.split(","):
            base = root / controllers if (root / controllers).is_dir() else root / controller
            found += _limits_up(base, path, read_v1)
    return min(found) if found else None


def _v2_roots(root: Path) -> list[Path]:
    return [root / "unified", root] if (root / "unified").is_dir() else [root]


def _read_bytes(file: Path) -> int | None:
    try:
        text = file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) < 2**60 else None


def _limits_up(base: Path, path: str, read) -> list:
    found = []
    folder = base / path.lstrip("/")
    while True:
        value = read(folder)
        if value is not None:
            found.append(value)
        if folder == base or base not in folder.parents:
            return found
        folder = folder.parent


def _read_cpu_max(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _read_cfs_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 else quota / period
