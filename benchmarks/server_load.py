"""Load test of the class server: N students log a full run each, all at once.

    uv run python benchmarks/server_load.py                  # 50 clients, SQLite store
    uv run python benchmarks/server_load.py --clients 100 --store postgresql://...

Starts a real `reproml-course server` (MLflow with accounts) in a temporary folder, creates one
account and one team experiment per client, runs them concurrently (one process each), then
reads every run back. Prints a table; exits 1 if a run is missing anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from reproml_course.base.processes import free_port
from reproml_course.classroom.accounts import Account, create_accounts
from reproml_course.classroom.load import simulate_class
from reproml_course.classroom.server import ClassServer, stop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--store", default=None, help="runs database (default: SQLite)")
    args = parser.parse_args()

    os.environ["REPROML_ADMIN_PASSWORD"] = "load-test-admin-password"
    with tempfile.TemporaryDirectory() as tmp:
        server = ClassServer(Path(tmp), port=free_port(), store=args.store)
        started = time.perf_counter()
        process = server.start()
        startup = time.perf_counter() - started
        try:
            os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
            os.environ["MLFLOW_TRACKING_PASSWORD"] = os.environ["REPROML_ADMIN_PASSWORD"]
            accounts = [
                Account(f"student{i:02d}", f"password-of-student{i:02d}", f"team{i:02d}")
                for i in range(1, args.clients + 1)
            ]
            started = time.perf_counter()
            create_accounts(server.url, accounts, "load")
            setup = time.perf_counter() - started
            report = simulate_class(server.url, accounts, "load")
        finally:
            stop(process)
    store = "PostgreSQL" if args.store and args.store.startswith("postgres") else "SQLite"
    print("| clients | store | server start s | accounts s | all runs s | FINISHED | complete |")
    print("|---------|-------|----------------|------------|------------|----------|----------|")
    print(
        f"| {report.clients} | {store} | {startup:.1f} | {setup:.1f} | {report.seconds:.1f} | "
        f"{len(report.run_ids)} | {len(report.run_ids) - len(report.incomplete)} |"
    )
    for problem in report.failures + report.incomplete:
        print(problem, file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
