"""``reproml-course``: the instructor's commands.

uv run reproml-course build            # notebooks/ from solutions/
uv run reproml-course build --check    # fail when notebooks/ is out of date (CI)
uv run reproml-course grade notebooks/01_results_in_txt_files.ipynb
uv run reproml-course grade submissions/ --json > grades.json
uv run reproml-course execute --quick  # run the solutions in place, with their outputs
uv run reproml-course binder           # binder/ from uv.lock (--check: fail when it drifted)
uv run reproml-course server --host 0.0.0.0         # the class MLflow server, with accounts
uv run reproml-course accounts students.csv         # users and team experiments (as admin)
uv run reproml-course leaderboard                   # verify new runs once, then rank
uv run reproml-course sync                          # upload runs kept while the server was down
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from reproml.errors import ReproMLError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reproml-course", description="Build, execute and grade the course notebooks."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build", help="generate the student notebooks (and the README's chapter table)"
    )
    build.add_argument("--check", action="store_true", help="only check they are up to date")
    build.add_argument("--solutions", type=Path, default=None, help="default: solutions/")
    build.add_argument("--notebooks", type=Path, default=None, help="default: notebooks/")

    grade = commands.add_parser("grade", help="execute notebooks and score their exercises")
    grade.add_argument("path", type=Path, help="a notebook, or a folder of notebooks")
    grade.add_argument("--json", action="store_true", help="print JSON (for an LMS)")
    grade.add_argument("--full", action="store_true", help="full mode (default: quick mode)")
    grade.add_argument("--solutions", type=Path, default=None, help="default: solutions/")
    grade.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    grade.add_argument(
        "--fail-under",
        type=float,
        default=None,
        metavar="PERCENT",
        help="exit 1 when the total is below this share of the points (CI)",
    )
    grade.add_argument("--jobs", type=_positive, default=1, help="notebooks at a time")

    execute = commands.add_parser("execute", help="run solution notebooks in place")
    execute.add_argument("paths", type=Path, nargs="*", help="default: every solution")
    execute.add_argument("--quick", action="store_true", help="quick mode")
    execute.add_argument("--jobs", type=_positive, default=1, help="notebooks at a time")

    binder = commands.add_parser("binder", help="write binder/ from uv.lock, with CPU torch")
    binder.add_argument("--check", action="store_true", help="only check it matches uv.lock")

    server = commands.add_parser("server", help="start the class MLflow server (with accounts)")
    server.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the room")
    server.add_argument("--port", type=_positive, default=5000)
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
        "leaderboard", help="verify new competition runs once (as the admin), then rank them"
    )
    board.add_argument("--server", default=None, help="default: $MLFLOW_TRACKING_URI")
    board.add_argument("--competition", default="competition", help="experiment prefix")
    board.add_argument(
        "--data-root", default=None, help="your copy of the test set (default: as training)"
    )
    board.add_argument("--time-limit", type=_positive, default=60, help="seconds per model")
    board.add_argument(
        "--memory-limit", type=_positive, default=1024, help="MiB per model evaluation"
    )
    board.add_argument("--size-limit", type=_positive, default=100, help="MB per model file")

    sync = commands.add_parser("sync", help="upload runs kept locally while the server was down")
    sync.add_argument("--server", default=None, help="default: the server each run was for")
    sync.add_argument("--store", default=None, help="default: outputs/unsynced/mlflow.db")
    return parser


def _prepare_for_parallel(jobs: int) -> None:
    if jobs > 1:  # the notebooks' kernels will share the default MLflow store
        from reproml.tracking.stores import create_store, default_tracking_uri

        create_store(default_tracking_uri())


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ReproMLError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


def _build(args: argparse.Namespace) -> int:
    from reproml.course.build import build_course
    from reproml.course.notebooks import course_dir

    solutions = args.solutions or course_dir("solutions")
    notebooks = args.notebooks or course_dir("notebooks")
    # The README's chapter table goes with the course's own notebooks, not with a copy elsewhere.
    readme = course_dir("README.md") if args.notebooks is None else None
    report = build_course(solutions, notebooks, check=args.check, readme=readme)
    if args.check:
        if report.up_to_date:
            extra = " (and the README's chapter table)" if readme else ""
            print(f"{notebooks}{extra} is up to date with {solutions}.")
            return 0
        names = [p.name for p in report.out_of_date] + [
            f"{p.name} (no solution)" for p in report.stale
        ]
        print(
            f"Error: out of date with {solutions}: {', '.join(names)}. "
            "Run `uv run reproml-course build` and commit the result.",
            file=sys.stderr,
        )
        return 1
    for path in report.written:
        print(f"Wrote {path}")
    for path in report.stale:
        print(f"Warning: {path} has no solution any more; delete it if it is obsolete.")
    if not report.written:
        print(f"{notebooks} was already up to date.")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from reproml.course.grade import format_grades, grade_path
    from reproml.course.notebooks import course_dir

    if not args.path.exists():
        raise ReproMLError(f"{args.path} does not exist.")
    solutions = args.solutions or course_dir("solutions")
    _prepare_for_parallel(args.jobs)
    grades = grade_path(
        args.path, solutions, quick=not args.full, timeout=args.timeout, jobs=args.jobs
    )
    unreadable = [g for g in grades if g.unreadable]
    for grade in unreadable:
        print(f"Error: {grade.problem}", file=sys.stderr)
    if args.json:  # an LMS gets every file, unreadable ones with zero points
        print(json.dumps([g.as_dict() for g in grades], indent=2))
    elif len(unreadable) < len(grades):
        print(format_grades([g for g in grades if not g.unreadable]))
    out_of = sum(g.max_points for g in grades)
    share = 100 * sum(g.points for g in grades) / out_of if out_of else 100.0
    if args.fail_under is not None and share < args.fail_under:
        print(f"Error: {share:.0f}% of the points, below {args.fail_under:g}%.", file=sys.stderr)
        return 1
    return 1 if unreadable else 0


def _execute(args: argparse.Namespace) -> int:
    from reproml.course.execute import execute_in_place
    from reproml.course.notebooks import course_dir, in_parallel, list_notebooks

    paths = [p for path in (args.paths or [course_dir("solutions")]) for p in list_notebooks(path)]

    def execute(path: Path) -> str:
        try:
            return f"Executed {path} in {execute_in_place(path, quick=args.quick):.0f} s"
        except ReproMLError as error:
            return f"Error: {error}"

    _prepare_for_parallel(args.jobs)
    reports = in_parallel(execute, paths, args.jobs, desc="executing")
    for report in reports:
        print(report, file=sys.stderr if report.startswith("Error") else sys.stdout)
    return 1 if any(report.startswith("Error") for report in reports) else 0


def _binder(args: argparse.Namespace) -> int:
    from reproml.course.binder import write_binder
    from reproml.course.notebooks import course_dir

    root = course_dir(".").resolve()
    differ = write_binder(root, check=args.check)
    if args.check and differ:
        names = ", ".join(str(p.relative_to(root)) for p in differ)
        print(
            f"Error: {names} no longer match uv.lock. Run `uv run reproml-course binder` and "
            "commit the result.",
            file=sys.stderr,
        )
        return 1
    for path in differ:
        print(f"Wrote {path.relative_to(root)}")
    if not differ:
        print("binder/ matches uv.lock.")
    return 0


def _server(args: argparse.Namespace) -> int:
    from reproml.classroom.server import ADMIN, ClassServer, stop

    server = ClassServer(args.folder, args.host, args.port, args.store, args.allowed_hosts)
    print(f"Starting the class MLflow server ({server.folder}/server.log)...")
    process = server.start()
    print(
        f"MLflow server with accounts at {server.url} (bound to {args.host}:{args.port}).\n"
        f"Admin: {ADMIN}, password in {server.password_file} (or $REPROML_ADMIN_PASSWORD).\n"
        "Create accounts: MLFLOW_TRACKING_URI=... MLFLOW_TRACKING_USERNAME=admin "
        "MLFLOW_TRACKING_PASSWORD=... reproml-course accounts students.csv\n"
        "Ctrl-C stops the server."
    )
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop(process)
        print("Server stopped.")
        return 0


def _tracking_server(given: str | None) -> str:
    import os

    uri = given or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ReproMLError(
            "Which server? Give --server http://HOST:PORT or set MLFLOW_TRACKING_URI."
        )
    return uri


def _accounts(args: argparse.Namespace) -> int:
    from reproml.classroom.accounts import create_accounts, read_accounts
    from reproml.tracking.stores import check_tracking_uri

    accounts = read_accounts(args.csv)
    uri = _tracking_server(args.server)
    check_tracking_uri(uri)
    for line in create_accounts(uri, accounts, args.competition):
        print(line)
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    import os

    from reproml.classroom.evaluator import Limits
    from reproml.classroom.leaderboard import format_leaderboard, verify_competition

    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"  # nothing here unpickles
    limits = Limits(args.time_limit, args.memory_limit << 20, args.size_limit * 1_000_000)
    report = verify_competition(
        _tracking_server(args.server), args.competition, args.data_root, limits
    )
    print(format_leaderboard(report.verdicts))
    flagged = sum(not v.ranked for v in report.new)
    print(
        f"\n{len(report.new)} new runs verified ({len(report.new) - flagged} ranked, {flagged} "
        f"flagged), {len(report.verdicts) - len(report.new)} verified before; "
        f"{report.seconds:.1f} s."
    )
    for line in ([report.note] if report.note else []) + report.pending:
        print(line)
    if report.restored:
        print(f"{report.restored} runs had their verdict tags edited: written back.")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from reproml.classroom.sync import sync_runs
    from reproml.tracking.stores import unsynced_store_uri

    synced = sync_runs(args.store or unsynced_store_uri(), args.server)
    for run in synced:
        note = f"; {run.note}" if run.note else ""
        print(f"Uploaded run {run.local_id} to {run.server} as run {run.server_id}{note}.")
    if not synced:
        print("No run waiting to be uploaded.")
    return 0


COMMANDS = {
    "build": _build,
    "grade": _grade,
    "execute": _execute,
    "binder": _binder,
    "server": _server,
    "accounts": _accounts,
    "leaderboard": _leaderboard,
    "sync": _sync,
}


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
