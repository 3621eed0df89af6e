"""The limits a container puts on this process, read from its cgroups (v1 and v2): a CPU
quota and a memory limit. Standard library only.

Where a process sits in a sub-group (``systemd-run``, a JupyterHub spawner's slice, a pod
without a cgroup namespace), the limit is on its own group or one above it, not on the root of
the cgroup mount that libraries read (joblib's ``cpu_count``): this reads every group from the
process's own up to the root and keeps the smallest limit.
"""

from __future__ import annotations

from pathlib import Path


def cpu_quota(
    root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> float | None:
    """The smallest CPU quota (in CPUs) on the path from this process's cgroup to the root."""
    quotas = []
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: cpu.max holds "quota period" or "max period"
            for base in _v2_roots(root):
                quotas += _limits_up(base, path, _read_cpu_max)
        elif "cpu" in controllers.split(","):  # cgroup v1: cpu.cfs_quota_us, -1 for none
            base = root / controllers if (root / controllers).is_dir() else root / "cpu"
            quotas += _limits_up(base, path, _read_cfs_quota)
    return min(quotas) if quotas else None


def memory_limit(
    root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The smallest memory limit (bytes) on the path from this process's cgroup to the root."""
    limits = []
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: memory.max, "max" for none
            for base in _v2_roots(root):
                limits += _limits_up(base, path, lambda f: _read_bytes(f / "memory.max"))
        elif "memory" in controllers.split(","):  # cgroup v1: a huge number for none
            base = root / controllers if (root / controllers).is_dir() else root / "memory"
            limits += _limits_up(base, path, lambda f: _read_bytes(f / "memory.limit_in_bytes"))
    return min(limits) if limits else None


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
