"""The class server's commands of ``reproml-course``: server, accounts, leaderboard, sync.

Apart from the authoring commands (build, grade, execute, binder) in ``reproml_course.cli.course``,
as their code is apart in ``reproml_course.classroom``.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Callable
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml_course.classroom.submissions import PER_DAY


def add_classroom_commands(commands, positive: Callable[[str], int]) -> None:
    """Add the four commands to ``reproml-course``'s subparsers."""
    server = commands.add_parser("server", help="start the class MLflow server (with accounts)")
    server.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the room")
    server.add_argument("--port", type=positive, default=5000)
    server.add_argument("--folder", type=Path, default=Path("class_server"), help="its files")
    server.add_argument(
        "--store", default=None, help="runs database, a SQLAlchemy URI (default: SQLite)"
    )
    server.add_argument(
        "--allowed-hosts", default=None, help="host names students use, if not an IP address"
    )

    accounts = commands.add_parser("accounts", help="create accounts from a CSV, as the admin")
    accounts.add_argument("csv", type=Path, help="columns: username,password[,team]")
    accounts.add_argument("--server", default=None, help="default: $MLFLOW_TRACKING_URI")
    accounts.add_argument("--competition", default="competition", help="experiment prefix")

    board = commands.add_parser(
        "leaderboard",
        help="record new submissions, test each submitted run once (as the admin), rank teams",
    )
    board.add_argument("--server", default=None, help="default: $MLFLOW_TRACKING_URI")
    board.add_argument("--competition", default="competition", help="experiment prefix")
    board.add_argument(
        "--data-root", default=None, help="your copy of the test set (default: as training)"
    )
    board.add_argument(
        "--time-limit", type=positive, default=60, help="CPU seconds per model (all threads)"
    )
    board.add_argument(
        "--memory-limit", type=positive, default=1024, help="MiB per model evaluation"
    )
    board.add_argument("--size-limit", type=positive, default=100, help="MB per model file")
    board.add_argument(
        "--per-day", type=positive, default=PER_DAY, help="submissions a team may have tested a day"
    )

    sync = commands.add_parser("sync", help="upload runs kept locally while the server was down")
    sync.add_argument("--server", default=None, help="default: the server each run was for")
    sync.add_argument("--store", default=None, help="default: outputs/unsynced/mlflow.db")


def _server(args: argparse.Namespace) -> int:
    from reproml_course.classroom.server import ADMIN, ClassServer, stop

    server = ClassServer(args.folder, args.host, args.port, args.store, args.allowed_hosts)
    # systemd, a container or `kill` stop a service with SIGTERM, sent to this process only:
    # the server runs in a session of its own, so it must be stopped as Ctrl-C stops it,
    # from the moment it starts.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    process = None
    try:
        print(f"Starting the class MLflow server ({server.folder}/server.log)...")
        process = server.start()  # stops what it started if interrupted meanwhile
        print(
            f"MLflow server with accounts at {server.url} (bound to {args.host}:{args.port}).\n"
            f"Admin: {ADMIN}, password in {server.password_file} (or $REPROML_ADMIN_PASSWORD).\n"
            "Create accounts: MLFLOW_TRACKING_URI=... MLFLOW_TRACKING_USERNAME=admin "
            "MLFLOW_TRACKING_PASSWORD=... reproml-course accounts students.csv\n"
            "Ctrl-C stops the server.",
            flush=True,
        )
        return process.wait()
    except KeyboardInterrupt:
        if process is not None:
            stop(process)
        print("Server stopped.")
        return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _tracking_server(given: str | None) -> str:
    uri = given or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ReproMLError(
            "Which server? Give --server http://HOST:PORT or set MLFLOW_TRACKING_URI."
        )
    return uri


def _accounts(args: argparse.Namespace) -> int:
    from reproml.tracking.stores import check_tracking_uri
    from reproml_course.classroom.accounts import create_accounts, read_accounts

    accounts = read_accounts(args.csv)
    uri = _tracking_server(args.server)
    check_tracking_uri(uri)
    for line in create_accounts(uri, accounts, args.competition):
        print(line)
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    from reproml_course.classroom.evaluator import Limits
    from reproml_course.classroom.leaderboard import format_leaderboard, verify_competition
    from reproml_course.classroom.leaderboard_view import printable

    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"  # nothing here unpickles
    limits = Limits(args.time_limit, args.memory_limit << 20, args.size_limit * 1_000_000)
    report = verify_competition(
        _tracking_server(args.server), args.competition, args.data_root, limits, args.per_day
    )
    print(format_leaderboard(report.verdicts))
    flagged = sum(not v.ranked for v in report.new)
    refused = [s for s in report.submissions if s.refused]
    print(
        f"\n{len(report.submissions)} new submissions ({len(refused)} refused); "
        f"{len(report.new)} runs tested ({len(report.new) - flagged} ranked, {flagged} "
        f"flagged); {report.seconds:.1f} s."
    )
    for s in refused:
        print(f"refused: {printable(s.team)}'s {printable(s.run_name)} ({s.run_id}): {s.refused}")
    for line in ([report.note] if report.note else []) + report.pending:
        print(line)
    if report.restored:
        print(f"{report.restored} runs had their verdict tags edited: written back.")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from reproml.tracking.stores import unsynced_store_uri
    from reproml_course.classroom.sync import sync_runs

    synced = sync_runs(args.store or unsynced_store_uri(), args.server)
    for run in synced:
        note = f"; {run.note}" if run.note else ""
        print(f"Uploaded run {run.local_id} to {run.server} as run {run.server_id}{note}.")
    if not synced:
        print("No run waiting to be uploaded.")
    return 0


CLASSROOM_COMMANDS = {
    "server": _server,
    "accounts": _accounts,
    "leaderboard": _leaderboard,
    "sync": _sync,
}
