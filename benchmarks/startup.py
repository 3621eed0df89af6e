"""Startup figures: wall time and peak memory of the course's first commands, and where a quick
tracked run spends its time. Linux only (reads /proc).

    REPROML_DATA_DIR=../shared/data uv run python benchmarks/startup.py

Each command runs in a fresh process (``os.wait4`` gives its peak resident memory). ``jupyter
lab`` is timed until its REST API answers; its memory is the PSS of its process group then,
before any kernel starts, and the table says whether torch was loaded into it. The quick runs
log to a fresh SQLite store in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reproml_course.base.processes import group_of, group_pss_mib, has_module, wait_until_answers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PHASES = """
import logging, time
for name in ("mlflow.store.db.utils", "alembic"):  # a new store's tables, one line each
    logging.getLogger(name).setLevel(logging.WARNING)
t0 = time.perf_counter()
from reproml.config import load_config, validate_config
from reproml.experiment import build_tracker
from reproml.training import fit, prepare_run
import reproml.tracking.record as record
t1 = time.perf_counter()
model_seconds = []
log_model = record._log_model
def timed_log_model(*args):
    started = time.perf_counter()
    log_model(*args)
    model_seconds.append(time.perf_counter() - started)
record._log_model = timed_log_model
cfg = validate_config(load_config(["experiment=quick", "trainer.progress=false",
                                    "tracking.uri=sqlite:///{store}"]))
tracker = build_tracker(dict(cfg.tracking))
tracker.check()
setup = prepare_run(cfg)
t2 = time.perf_counter()
with tracker.run(setup) as callbacks:
    t3 = time.perf_counter()
    result = fit(setup, callbacks)
    t4 = time.perf_counter()
    tracker.finish(result)
    t5 = time.perf_counter()
for name, seconds in [("imports (torch, hydra, mlflow's client)", t1 - t0),
                      ("configuration, tracker check, data read", t2 - t1),
                      ("first MLflow calls: store, run, params, inputs", t3 - t2),
                      ("training and testing (quick: 450 images, 1 epoch)", t4 - t3),
                      ("metrics, figures, end of run", t5 - t4 - model_seconds[0]),
                      ("the model: torch.export and MLflow's model folder", model_seconds[0])]:
    print(f"| {{name}} | {{seconds:.1f}} |")
"""


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float, int]:
    """(wall seconds, peak resident MiB, exit status) of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def jupyter_lab(port: int = 8931) -> tuple[float, float, bool]:
    """(seconds until the server answers, its PSS in MiB then, whether torch is loaded)."""
    command = [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}",
               "--ServerApp.token=bench", "--ServerApp.open_browser=False"]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/status?token=bench")
        answered = time.perf_counter() - started
        pids = group_of(server.pid)
        return answered, group_pss_mib(server.pid), any(has_module(p, "torch") for p in pids)
    finally:
        os.killpg(server.pid, 15)
        server.wait()


def main() -> None:
    print("| command | wall s | peak memory MiB |")
    print("|---------|--------|-----------------|")
    seconds, mib, torch_loaded = jupyter_lab()
    torch_note = "torch loaded" if torch_loaded else "no torch"
    print(f"| `jupyter lab` until it answers | {seconds:.1f} | {mib:.0f} (PSS, {torch_note}) |")
    with tempfile.TemporaryDirectory() as folder:
        commands = {
            "`reproml-course build --check`": [str(BIN / "reproml-course"), "build", "--check"],
            "`reproml-train --help`": [str(BIN / "reproml-train"), "--help"],
            "`reproml-train experiment=quick tracking=none`": [
                str(BIN / "reproml-train"), "experiment=quick", "tracking=none",
                f"hydra.run.dir={folder}/none"],
            "`reproml-train experiment=quick` (tracking=mlflow)": [
                str(BIN / "reproml-train"), "experiment=quick", f"hydra.run.dir={folder}/mlflow",
                f"tracking.uri=sqlite:///{folder}/mlflow.db"],
        }  # fmt: skip
        for label, command in commands.items():
            seconds, mib, status = timed(command)
            failed = "" if status == 0 else f" (exit {status})"
            print(f"| {label}{failed} | {seconds:.1f} | {mib:.0f} |")
        print("\nWhere a quick tracked run spends its time (one process, in order):\n")
        print("| phase | s |")
        print("|-------|---|")
        script = PHASES.format(store=f"{folder}/phases.db")
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
