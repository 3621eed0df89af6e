import os
import subprocess
import sys

import pytest

from reproml.base import threads
from reproml.base.cgroups import cpu_quota, memory_limit
from reproml.base.threads import shared_threads_env, training_threads


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_is_read_from_the_processs_group_and_those_above(tmp_path):
    membership = tmp_path / "cgroup"
    write(membership, "0::/hub/user-ada\n")
    write(tmp_path / "fs" / "hub" / "user-ada" / "cpu.max", "max 100000\n")
    write(tmp_path / "fs" / "hub" / "cpu.max", "150000 100000\n")  # the JupyterHub slice
    assert cpu_quota(tmp_path / "fs", membership) == 1.5
    write(tmp_path / "fs" / "hub" / "user-ada" / "cpu.max", "50000 100000\n")
    assert cpu_quota(tmp_path / "fs", membership) == 0.5  # the smallest one counts


def test_a_cgroup_v1_quota_and_no_quota_at_all(tmp_path):
    membership = tmp_path / "cgroup"
    write(membership, "4:memory:/pod\n1:cpu,cpuacct:/pod\n0::/\n")
    group = tmp_path / "fs" / "cpu,cpuacct" / "pod"
    write(group / "cpu.cfs_quota_us", "-1\n")
    write(group / "cpu.cfs_period_us", "100000\n")
    assert cpu_quota(tmp_path / "fs", membership) is None  # -1: no limit
    write(group / "cpu.cfs_quota_us", "200000\n")
    assert cpu_quota(tmp_path / "fs", membership) == 2.0
    assert cpu_quota(tmp_path / "nothing", tmp_path / "no-such-file") is None


def test_the_quota_caps_the_cpus_and_rounds_up(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(threads, "cpu_quota", lambda: 1.5)
    assert threads.usable_cpus() == 2
    monkeypatch.setattr(threads, "cpu_quota", lambda: 0.1)
    assert threads.usable_cpus() == 1  # never 0
    monkeypatch.setattr(threads, "cpu_quota", lambda: None)
    assert threads.usable_cpus() == 4


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_the_affinity_mask_is_read_in_a_real_process():
    """What ``taskset -c 0`` does to a process: torch's default ignores it, the course does not."""
    code = (
        "import os; os.sched_setaffinity(0, {0}); "
        "from reproml.base.threads import usable_cpus; print(usable_cpus())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_the_configuration_then_the_launchers_share_then_every_cpu(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda: 8)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert training_threads(None) == 8
    assert training_threads(3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert training_threads(None) == 2 and training_threads(5) == 5
    monkeypatch.setenv("OMP_NUM_THREADS", "two")  # not a count: ignored
    assert training_threads(None) == 8


def test_processes_started_together_share_the_cpus(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert shared_threads_env(1) == {"OMP_NUM_THREADS": "2"}
    assert shared_threads_env(2) == {"OMP_NUM_THREADS": "1"}
    assert shared_threads_env(4) == {"OMP_NUM_THREADS": "1"}  # at least one each
    monkeypatch.setenv("OMP_NUM_THREADS", "6")  # the share this process was given
    assert shared_threads_env(3) == {"OMP_NUM_THREADS": "2"}


def test_the_memory_limit_of_the_processs_own_group(tmp_path):
    """A pod's limit where the process is in a sub-group: the root says nothing."""
    membership = tmp_path / "cgroup"
    write(membership, "4:memory:/pod/kernel\n0::/\n")
    base = tmp_path / "fs" / "memory"
    write(base / "memory.limit_in_bytes", str(2**63 - 4096))  # the root: no limit
    write(base / "pod" / "memory.limit_in_bytes", str(2 << 30))
    write(base / "pod" / "kernel" / "memory.limit_in_bytes", str(2**63 - 4096))
    assert memory_limit(tmp_path / "fs", membership) == 2 << 30
    write(membership, "0::/pod\n")
    write(tmp_path / "v2" / "pod" / "memory.max", "max\n")
    write(tmp_path / "v2" / "memory.max", "1073741824\n")
    assert memory_limit(tmp_path / "v2", membership) == 1 << 30
    assert memory_limit(tmp_path / "none", tmp_path / "no-such-file") is None
