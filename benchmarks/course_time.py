"""Course time and memory: executing each solution notebook, in quick and in full mode.

    uv run python benchmarks/course_time.py [--mode quick|full|both] [--jobs 2] [NOTEBOOK ...]
    uv run python benchmarks/course_time.py --mode full --full-size    # what students wait
    uv run python benchmarks/course_time.py --mode full --full-size --memory 2048 --cpus 1

With ``--memory`` (MiB) and ``--cpus``, each notebook's kernel and everything it starts run in
a cgroup of their own with that memory limit and CPU quota, as in a Binder pod
(``cgroup_limits.py``, needs root): the table adds the pod's peak (page cache included, as the
limit counts it) and the processes the out-of-memory killer ended. With ``--mlflow-ui`` as well,
Jupyter's server runs in the pod with its MLflow tile opened (``jupyter_in_pod.py``), as a
student works on Binder with the UI in another tab.

For each notebook: wall time, the kernel's peak resident memory, and the peak of the kernel
together with the processes it starts (``!reproml-train`` cells, papermill's kernels), which is
what counts against Binder's 2 GB. Memory is sampled every 0.1 s with psutil. The notebooks run
from the solutions folder as ``reproml-course execute`` runs them, but nothing is written back.
Data: ``REPROML_DATA_DIR`` if set, else ``../shared/data`` when present; ``--full-size`` writes
a synthetic set of Fashion-MNIST's real size (60,000 training and 10,000 test images, in
torchvision's layout) to a temporary folder: the times students wait, where the real files are
not at hand (training time depends on the number of images, not on what they show).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from cgroup_limits import pod
from jupyter_in_pod import jupyter_with_mlflow_tile

from reproml_course.base.notebooks import (
    in_parallel,
    kernel_environment,
    list_notebooks,
    notebook_client,
    read_notebook,
)
from reproml_course.base.paths import course_dir


@dataclass
class Measurement:
    notebook: str
    mode: str
    seconds: float = 0.0
    kernel_peak: int = 0  # bytes
    tree_peak: int = 0
    error: str = ""
    pod_peak: int | None = None  # bytes charged to the Binder-like pod, when there is one
    oom_kills: int = 0


class MemoryWatch:
    """Samples the RSS of a process and of its children until stopped."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.kernel_peak = self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                kernel = self.process.memory_info().rss
                children = 0
                for child in self.process.children(recursive=True):
                    with contextlib.suppress(psutil.Error):  # it may just have ended
                        children += child.memory_info().rss
            except psutil.Error:
                return
            self.kernel_peak = max(self.kernel_peak, kernel)
            self.tree_peak = max(self.tree_peak, kernel + children)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(
    path: Path, quick: bool, limits: tuple[int, float] | None = None, ui: bool = False
) -> Measurement:
    result = Measurement(path.name, "quick" if quick else "full")
    watches: list[MemoryWatch] = []
    with contextlib.ExitStack() as stack:
        box = stack.enter_context(pod(*limits)) if limits else None
        if box is not None and ui:
            stack.enter_context(jupyter_with_mlflow_tile(box))

        def watch_kernel(**_: object) -> None:
            pid = client.km.provisioner.process.pid
            if box is not None:
                box.join(pid)  # before its first cell: what it starts is in the pod too
            watches.append(MemoryWatch(pid))

        client = notebook_client(read_notebook(path), path, 3600, on_notebook_start=watch_kernel)
        env = kernel_environment(quick)
        if box is not None:  # inside Binder nothing names a thread count: the quota decides
            env.pop("OMP_NUM_THREADS", None)
        run_measured(client, env, result, watches)
        if box is not None:
            result.pod_peak, result.oom_kills = box.peak_bytes(), box.oom_kills()
    return result


def run_measured(client, env: dict, result: Measurement, watches: list[MemoryWatch]) -> None:
    """Execute the client's notebook; its time, peaks and error (if any) into ``result``."""
    start = time.perf_counter()
    try:
        client.execute(env=env)
    except Exception as error:  # report it in the table and go on with the others
        lines = str(error).strip().splitlines() or [""]
        result.error = f"{type(error).__name__}: {lines[-1][:80]}"
    result.seconds = time.perf_counter() - start
    for watch in watches:
        watch.stop()
        result.kernel_peak, result.tree_peak = watch.kernel_peak, watch.tree_peak


def table(results: list[Measurement], wall: dict[str, float]) -> str:
    mib = 2**20
    pods = any(r.pod_peak is not None for r in results)
    extra = " pod peak MiB | out-of-memory kills |" if pods else ""
    lines = [
        "| notebook | mode | seconds | kernel peak MiB | with children MiB |" + extra,
        "|----------|------|---------|-----------------|-------------------|"
        + ("---|---|" if pods else ""),
    ]
    for r in results:
        name = r.notebook + (f" (failed: {r.error})" if r.error else "")
        lines.append(
            f"| {name} | {r.mode} | {r.seconds:.0f} | {r.kernel_peak / mib:,.0f} | "
            f"{r.tree_peak / mib:,.0f} |"
            + (f" {(r.pod_peak or 0) / mib:,.0f} | {r.oom_kills} |" if pods else "")
        )
    for mode, seconds in wall.items():
        mine = [r for r in results if r.mode == mode]
        summed = sum(r.seconds for r in mine)
        lines.append(
            f"| **all** | {mode} | **{seconds:.0f}** wall ({summed:.0f} summed) | "
            f"{max(r.kernel_peak for r in mine) / mib:,.0f} max | "
            f"{max(r.tree_peak for r in mine) / mib:,.0f} max |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solution")
    parser.add_argument("--mode", choices=["quick", "full", "both"], default="quick")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks at a time")
    parser.add_argument(
        "--full-size", action="store_true", help="a synthetic set of 60,000 + 10,000 images"
    )
    parser.add_argument("--memory", type=int, help="MiB: each notebook in a Binder-like pod")
    parser.add_argument("--cpus", type=float, default=1.0, help="the pod's CPU quota")
    parser.add_argument(
        "--mlflow-ui", action="store_true", help="with --memory: Jupyter and the MLflow tile too"
    )
    args = parser.parse_args()
    limits = (args.memory << 20, args.cpus) if args.memory else None

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if args.full_size:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from synthetic_data import write_fashion_mnist

        folder = Path(tempfile.mkdtemp(prefix="fashion-mnist-full-size-"))
        write_fashion_mnist(folder, n_train=60_000, n_test=10_000, signal=0.2)
        os.environ["REPROML_DATA_DIR"] = str(folder)
    elif "REPROML_DATA_DIR" not in os.environ and shared.is_dir():
        os.environ["REPROML_DATA_DIR"] = str(shared)
    paths = [p for a in (args.notebooks or [course_dir("solutions")]) for p in list_notebooks(a)]
    modes = ["quick", "full"] if args.mode == "both" else [args.mode]
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, {args.jobs} notebook(s) at a time, "
        f"data: {os.environ.get('REPROML_DATA_DIR', 'default')}"
    )
    results, wall = [], {}
    for mode in modes:
        start = time.perf_counter()
        results += in_parallel(
            lambda path, mode=mode: measure(path, mode == "quick", limits, args.mlflow_ui),
            paths,
            args.jobs,
            desc=mode,
        )
        wall[mode] = time.perf_counter() - start
    print(table(results, wall))


if __name__ == "__main__":
    main()
