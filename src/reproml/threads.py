"""How many CPU threads a training uses: the CPUs this process may really use, shared between
the processes that the course starts side by side.

torch sizes its thread pool from the host's cores. In a Binder or JupyterHub pod the container
may use far fewer (a CPU quota), and a kernel that starts trainings beside itself (papermill,
search workers, notebooks run two at a time) multiplies the threads again: more threads than
CPUs make torch's threads wait on each other, and a run takes 4 times as long or worse
(benchmarks/README.md). Standard library only: launchers call it without importing torch.

The thread count changes a CNN's results in their last bits (oneDNN splits its sums by thread),
so it is fixed for the whole run and recorded with it (the ``threads`` tag, ``trainer.threads``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

#: The variable that passes a share of the CPUs to a child process; torch, NumPy's BLAS and
#: joblib's workers all read it.
THREADS_VARIABLE = "OMP_NUM_THREADS"


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by its cgroup's CPU quota.

    joblib's ``cpu_count`` reads the quota of the cgroup mount's root only, right inside a
    container but not for a process placed in a sub-group (``systemd-run -p CPUQuota=``, a
    JupyterHub spawner's slice): this reads the process's own group and every group above it.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def training_threads(requested: int | None = None) -> int:
    """``requested`` if given; else ``OMP_NUM_THREADS`` (a launcher's share, or the user's);
    else every CPU this process may use."""
    if requested:
        return int(requested)
    value = os.environ.get(THREADS_VARIABLE, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return usable_cpus()


def shared_threads_env(processes: int) -> dict[str, str]:
    """The environment for one of ``processes`` trainings started at once: each gets an equal
    share of this process's CPUs (at least one thread)."""
    return {THREADS_VARIABLE: str(max(1, training_threads() // max(1, processes)))}


def _cgroup_cpu_quota(
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
            folders = [root / "unified", root] if (root / "unified").is_dir() else [root]
            for base in folders:
                quotas += _quotas_up(base, path, _read_cpu_max)
        elif "cpu" in controllers.split(","):  # cgroup v1: cpu.cfs_quota_us, -1 for none
            base = root / controllers if (root / controllers).is_dir() else root / "cpu"
            quotas += _quotas_up(base, path, _read_cfs_quota)
    return min(quotas) if quotas else None


def _quotas_up(base: Path, path: str, read) -> list[float]:
    found = []
    folder = base / path.lstrip("/")
    while True:
        quota = read(folder)
        if quota is not None:
            found.append(quota)
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
