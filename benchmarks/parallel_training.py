"""k trainings at once against k one after the other: what sharing the CPUs saves.

    uv run python benchmarks/parallel_training.py              # k = 1, 2, 4
    uv run python benchmarks/parallel_training.py --k 1 2 4 8 --images 6000 --epochs 2

Each training is a ``reproml-train`` process (the CNN, tracking off) on a synthetic set in
torchvision's layout, so the times include what a real run pays: Python's start, torch's import,
reading the data. Three ways, for each k:

- *serial*: the k runs one after the other, each with every CPU this process may use;
- *together, every CPU each*: k at once, each sized as torch sizes itself, from the cores
  (what happens when a kernel, its papermill kernels and a search worker each train);
- *together, shared*: k at once, each with its share (``reproml.base.threads.shared_threads_env``,
  what ``reproml-course execute --jobs``, joblib's workers and the grading use).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reproml.base.threads import THREADS_VARIABLE, shared_threads_env, usable_cpus


def start(command: list[str], threads: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != THREADS_VARIABLE} | threads
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)  # fmt: skip


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate()
    if process.returncode:
        sys.exit(f"a training failed (exit {process.returncode}): {out[-500:]}")
    return out.strip().splitlines()[-1]


def serial(command: list[str], k: int) -> tuple[float, list[str]]:
    started, lines = time.perf_counter(), []
    for _ in range(k):
        lines.append(finish(start(command, {})))
    return time.perf_counter() - started, lines


def together(command: list[str], k: int, threads: dict[str, str]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    processes = [start(command, threads) for _ in range(k)]
    lines = [finish(p) for p in processes]
    return time.perf_counter() - started, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--images", type=int, default=6000, help="training images")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from synthetic_data import write_fashion_mnist

    folder = Path(tempfile.mkdtemp(prefix="parallel-training-"))
    write_fashion_mnist(folder, n_train=args.images, n_test=1000, signal=0.2)
    program = shutil.which("reproml-train", path=str(Path(sys.executable).parent))
    command = [program, f"data.root={folder}", "model=cnn", "tracking=none",
               f"trainer.epochs={args.epochs}", "trainer.progress=false"]  # fmt: skip
    cores = os.cpu_count()
    print(f"{platform.machine()}, {cores} cores, {usable_cpus()} usable by this process; "
          f"each run: the CNN, {args.epochs} epochs of {args.images:,} synthetic images, "
          "as a reproml-train process\n")  # fmt: skip
    print("| k | serial s | together, every CPU each s | ratio | together, shared s | ratio "
          "| threads each (shared) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    try:
        for k in args.k:
            alone, _ = serial(command, k)
            crowded, _ = together(command, k, {THREADS_VARIABLE: str(usable_cpus())})
            share = shared_threads_env(k)
            shared, _ = together(command, k, share)
            print(f"| {k} | {alone:.1f} | {crowded:.1f} | {crowded / alone:.2f} | "
                  f"{shared:.1f} | {shared / alone:.2f} | {share[THREADS_VARIABLE]} |",
                  flush=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
