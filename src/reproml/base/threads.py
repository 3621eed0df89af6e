"""How many CPU threads a training uses: the CPUs this process may really use, shared between
the processes that the course starts side by side.

torch sizes its thread pool from the host's cores. In a Binder or JupyterHub pod the container
may use far fewer (a CPU quota), and a kernel that starts trainings beside itself (papermill,
search workers, notebooks run two at a time) multiplies the threads again: more threads than
CPUs make torch's threads wait on each other: four CNN trainings at once on 2 cores, each
with every core, took 2.75 times as long as one after the other (benchmarks/README.md).
Standard library only: launchers call it without importing torch.

The thread count changes a CNN's results in their last bits (oneDNN splits its sums by thread),
so it is fixed for the whole run and recorded in its ``threads`` tag (``trainer.threads`` sets
it; null, the default, leaves it to ``OMP_NUM_THREADS`` or the CPUs).
"""

from __future__ import annotations

import math
import os

from reproml.base.cgroups import cpu_quota

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
    quota = cpu_quota()
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
