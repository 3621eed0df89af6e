"""Course time and memory: executing each solution notebook, in quick and in full mode.

    uv run python benchmarks/course_time.py [--mode quick|full|both] [--jobs 2] [NOTEBOOK ...]
    uv run python benchmarks/course_time.py --mode full --full-size    # what students wait

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

from reproml.course.notebooks import (
    in_parallel,
    kernel_environment,
    list_notebooks,
    notebook_client,
    read_notebook,
)
from reproml.paths import course_dir


@dataclass
class Measurement:
    notebook: str
    mode: str
    seconds: float = 0.0
    kernel_peak: int = 0  # bytes
    tree_peak: int = 0
    error: str = ""


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


def measure(path: Path, quick: bool) -> Measurement:
    result = Measurement(path.name, "quick" if quick else "full")
    watches: list[MemoryWatch] = []

    def watch_kernel(**_: object) -> None:
        watches.append(MemoryWatch(client.km.provisioner.process.pid))

    client = notebook_client(read_notebook(path), path, 3600, on_notebook_start=watch_kernel)
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment(quick))
    except Exception as error:  # report it in the table and go on with the others
        result.error = f"{type(error).__name__}: {str(error).strip().splitlines()[-1][:80]}"
    result.seconds = time.perf_counter() - start
    for watch in watches:
        watch.stop()
        result.kernel_peak, result.tree_peak = watch.kernel_peak, watch.tree_peak
    return result


def table(results: list[Measurement], wall: dict[str, float]) -> str:
    mib = 2**20
    lines = [
        "| notebook | mode | seconds | kernel peak MiB | with children MiB |",
        "|----------|------|---------|-----------------|-------------------|",
    ]
    for r in results:
        name = r.notebook + (f" (failed: {r.error})" if r.error else "")
        lines.append(
            f"| {name} | {r.mode} | {r.seconds:.0f} | {r.kernel_peak / mib:,.0f} | "
            f"{r.tree_peak / mib:,.0f} |"
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
    args = parser.parse_args()

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
            lambda path, mode=mode: measure(path, mode == "quick"), paths, args.jobs, desc=mode
        )
        wall[mode] = time.perf_counter() - start
    print(table(results, wall))


if __name__ == "__main__":
    main()
