"""Memory of the MLflow server that JupyterLab's MLflow tile starts: with MLflow 3's GenAI job
runner on (MLflow's default) and off (what the tile sets), with MLflow's CLI waiting beside
uvicorn (`mlflow server`) and without it (the tile: reproml_course.classroom.mlflow_serve):
processes and total PSS once the server answers and has settled. Linux only (reads /proc).

    uv run python benchmarks/mlflow_tile_memory.py
"""

from __future__ import annotations

import os
import subprocess
import time

from reproml_course.base.processes import group_of, pss_kib, wait_until_answers
from reproml_course.classroom.mlflow_proxy import mlflow_ui

PORT = "5123"


SERVE = "reproml_course.classroom.mlflow_serve"


def measure(job_runner: bool, idle_cli: bool) -> tuple[int, float, float]:
    ui = mlflow_ui()
    command = [word.replace("{port}", PORT) for word in ui["command"]]
    if idle_cli:  # MLflow's own CLI, as `mlflow server` runs it
        at = command.index(SERVE)
        command[at : at + 1] = ["mlflow", "server"]
    env = {**os.environ, **({} if job_runner else ui["environment"])}
    started = time.monotonic()
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_answers(f"http://127.0.0.1:{PORT}/health", any_status=False)
        answered = time.monotonic() - started
        time.sleep(8)  # the job runner's consumers start after the server answers
        pids = group_of(server.pid)
        return len(pids), sum(pss_kib(p) for p in pids) / 1024, answered
    finally:
        os.killpg(server.pid, 15)
        server.wait()
        time.sleep(2)


def main() -> None:
    print(f"{'job runner':<12}{'CLI':<28}{'processes':>10}{'PSS (MiB)':>11}{'answers (s)':>13}")
    for job_runner, idle_cli in ((True, True), (False, True), (False, False)):
        count, mib, seconds = measure(job_runner, idle_cli)
        cli = "mlflow server" if idle_cli else "none (the tile)"
        print(
            f"{'on' if job_runner else 'off':<12}{cli:<28}{count:>10}{mib:>11.0f}{seconds:>13.1f}"
        )


if __name__ == "__main__":
    main()
