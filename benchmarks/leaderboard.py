"""How long the verified leaderboard takes on a real class server: first call, second call.

    uv run python benchmarks/leaderboard.py                 # 40 runs, one team each
    uv run python benchmarks/leaderboard.py --runs 10

Starts a real `reproml-course server` in a temporary folder, creates one account and team per
run, trains, logs and submits one CNN run per team (quick mode, not tested: data.test=false),
then times `reproml-course leaderboard` as the instructor runs it (a fresh process each time):
the first call tests every submission, the second finds nothing new. Also times what a student calls
(`read_leaderboard` in a fresh process). The test set is ../shared/data's when present, else a
synthetic one of 10,000 images. Prints a table; exits 1 if a run is not ranked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reproml.config import load_config
from reproml.experiment import run_experiment
from reproml_course.base.processes import free_port
from reproml_course.classroom.accounts import Account, create_accounts
from reproml_course.classroom.server import ClassServer, stop
from reproml_course.classroom.submissions import submit_run

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ADMIN_PASSWORD = "leaderboard-benchmark-admin"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = SHARED
        if not (SHARED / "FashionMNIST" / "raw").is_dir():
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from synthetic_data import write_fashion_mnist

            data = write_fashion_mnist(Path(tmp) / "data", n_test=10_000).root
        os.environ["REPROML_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        server = ClassServer(Path(tmp) / "server", port=free_port())
        process = server.start()
        try:
            admin = {
                "MLFLOW_TRACKING_USERNAME": "admin",
                "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD,
            }
            os.environ.update(admin)
            accounts = [
                Account(f"student{i:02d}", f"password-of-student{i:02d}", f"team{i:02d}")
                for i in range(1, args.runs + 1)
            ]
            create_accounts(server.url, accounts)
            started = time.perf_counter()
            for i, account in enumerate(accounts):
                result = run_experiment(
                    load_config(
                        [
                            "experiment=quick", f"data.root={data}", "data.test=false",
                            "trainer.progress=false", f"seed={i}", "tracking=mlflow",
                            f"tracking.uri={server.url}",
                            f"tracking.experiment=competition/{account.team}",
                        ]
                    )
                )  # fmt: skip
                submit_run(result.run_id, server.url)
            logging = time.perf_counter() - started
            env = {**os.environ, **admin}
            env.pop("MLFLOW_TRACKING_URI", None)
            board = [sys.executable, "-m", "reproml_course.cli.course", "leaderboard",
                     "--server", server.url, "--data-root", str(data)]  # fmt: skip
            first, table = timed(board, env)
            second, again = timed(board, env)
            student = {**env, "MLFLOW_TRACKING_USERNAME": "student01",
                       "MLFLOW_TRACKING_PASSWORD": "password-of-student01"}  # fmt: skip
            code = (
                "import sys; from reproml_course.classroom.leaderboard import read_leaderboard; "
                "print(len(read_leaderboard(sys.argv[1])))"
            )
            read = [sys.executable, "-c", code, server.url]
            view, count = timed(read, student)
        finally:
            stop(process)
    rows = table.split("\n\n")[0].splitlines()  # the table, before the summary lines
    ranked = sum(line.split()[0].isdigit() for line in rows if line.strip())
    print(f"{args.runs} runs logged in {logging:.0f} s; test set: {data}")
    print("| runs | first call s | second call s | student view s | ranked | seen by student |")
    print("|------|--------------|---------------|----------------|--------|-----------------|")
    print(f"| {args.runs} | {first:.1f} | {second:.1f} | {view:.1f} | {ranked} | {count.strip()} |")
    print(again.strip().splitlines()[-1])
    return 0 if ranked == args.runs and "0 new submissions" in again else 1


if __name__ == "__main__":
    sys.exit(main())
