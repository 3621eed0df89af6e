"""A Binder-like pod for one process tree: a cgroup with a memory limit and a CPU quota.

Binder's pods (Kubernetes) get 1-2 GB of memory and a CPU quota far below the host's cores;
the kernel enforces both through the pod's cgroup. This makes one the same way (cgroup v2, or
v1's ``memory`` and ``cpu`` hierarchies), puts a process in it (its children follow), and says
afterwards whether the kernel's out-of-memory killer struck inside. Needs root.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


@dataclass
class Pod:
    memory_bytes: int
    cpus: float
    folders: list[Path] = field(default_factory=list)

    @property
    def v2(self) -> bool:
        return (ROOT / "cgroup.controllers").is_file()

    def create(self) -> None:
        # A page is charged to the group that first reads it: drop the cached files (torch's
        # libraries, the data) so that the pod pays for its own, as a fresh Binder pod does.
        os.sync()
        with contextlib.suppress(OSError):
            Path("/proc/sys/vm/drop_caches").write_text("3")
        name = f"reproml-pod-{uuid.uuid4().hex[:8]}"
        period = 100_000
        quota = int(self.cpus * period)
        if self.v2:
            (ROOT / "cgroup.subtree_control").write_text("+memory +cpu")
            folder = ROOT / name
            folder.mkdir()
            (folder / "memory.max").write_text(str(self.memory_bytes))
            (folder / "memory.swap.max").write_text("0")
            (folder / "cpu.max").write_text(f"{quota} {period}")
            self.folders = [folder]
        else:
            memory, cpu = ROOT / "memory" / name, ROOT / "cpu" / name
            memory.mkdir()
            cpu.mkdir()
            (memory / "memory.limit_in_bytes").write_text(str(self.memory_bytes))
            with contextlib.suppress(OSError):  # what the process held before it joined, too
                (memory / "memory.move_charge_at_immigrate").write_text("3")
            with contextlib.suppress(OSError):  # where swap is accounted
                (memory / "memory.memsw.limit_in_bytes").write_text(str(self.memory_bytes))
            (cpu / "cpu.cfs_period_us").write_text(str(period))
            (cpu / "cpu.cfs_quota_us").write_text(str(quota))
            self.folders = [memory, cpu]

    def join(self, pid: int) -> None:
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """Processes the out-of-memory killer ended inside (v1 before Linux 4.13: failures)."""
        events = self.folders[0] / ("memory.events" if self.v2 else "memory.oom_control")
        for line in events.read_text().splitlines():
            key, value = line.split()
            if key == "oom_kill":
                return int(value)
        return int((self.folders[0] / "memory.failcnt").read_text())

    def peak_bytes(self) -> int:
        """Everything charged to the pod at its peak, page cache included (as Binder counts)."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int((self.folders[0] / name).read_text())
        return 0

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(50):  # what is left inside is killed, then the group goes
                pids = (folder / "cgroup.procs").read_text().split()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), 9)
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    break
                time.sleep(0.1)


@contextlib.contextmanager
def pod(memory_bytes: int, cpus: float) -> Iterator[Pod]:
    created = Pod(memory_bytes, cpus)
    created.create()
    try:
        yield created
    finally:
        created.remove()
