"""``reproml-course``: the instructor's commands.

uv run reproml-course build            # notebooks/ from solutions/
uv run reproml-course build --check    # fail when notebooks/ is out of date (CI)
uv run reproml-course translate        # merge the English into locale/fr/*.po (translators)
uv run reproml-course grade notebooks/01_results_in_txt_files.ipynb
uv run reproml-course grade submissions/ --json > grades.json
uv run reproml-course grade notebooks/ notebooks/fr --jobs 2  # several paths, one queue
uv run reproml-course execute --quick  # run the solutions in place, with their outputs
uv run reproml-course student-path DIR # the student notebooks filled in, for nbval (CI)
uv run reproml-course binder           # binder/ from uv.lock (--check: fail when it drifted)
uv run reproml-course server --host 0.0.0.0         # the class MLflow server, with accounts
uv run reproml-course accounts students.csv         # users and team experiments (as admin)
uv run reproml-course leaderboard                   # verify new runs once, then rank
uv run reproml-course sync                          # upload runs kept while the server was down
uv run reproml-course mutants --check               # the checks judged by the mutants they kill
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml_course.cli.classroom import CLASSROOM_COMMANDS, add_classroom_commands
from reproml_course.cli.mutants import add_mutants_command, run_mutants
from reproml_course.cli.site import add_site_command, run_site
from reproml_course.cli.translate import add_translate_command, build_translations, run_translate


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
    grade.add_argument(
        "paths", type=Path, nargs="+", help="notebooks, folders of them, or of students'"
    )
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

    student = commands.add_parser(
        "student-path",
        help="copy the student notebooks filled in with the solutions' code (for nbval)",
    )
    student.add_argument("destination", type=Path, help="a folder (replaced)")
    student.add_argument("--solutions", type=Path, default=None, help="default: solutions/")
    student.add_argument("--notebooks", type=Path, default=None, help="default: notebooks/")

    binder = commands.add_parser("binder", help="write binder/ from uv.lock, with CPU torch")
    binder.add_argument("--check", action="store_true", help="only check it matches uv.lock")

    add_classroom_commands(commands, _positive)
    add_mutants_command(commands, _positive)
    add_translate_command(commands)
    add_site_command(commands)
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
    from reproml_course.authoring.build_manifest import record_build, unchanged_since_build
    from reproml_course.base.paths import course_dir

    solutions = args.solutions or course_dir("solutions")
    notebooks = args.notebooks or course_dir("notebooks")
    # The README's chapter table goes with the course's own notebooks, not with a copy elsewhere.
    readme = course_dir("README.md") if args.notebooks is None else None
    extra = " (and the README's chapter table)" if readme else ""
    if args.check and unchanged_since_build(solutions, notebooks, readme):
        print(f"{notebooks}{extra} is up to date with {solutions} (unchanged since the build).")
        return 0
    from reproml_course.authoring.build import build_course

    report = build_course(solutions, notebooks, check=args.check, readme=readme)
    translations = build_translations(solutions, notebooks, check=args.check)
    if args.check:
        if report.up_to_date and translations == 0:
            print(f"{notebooks}{extra} is up to date with {solutions}.")
            return 0
        if report.up_to_date:
            return 1
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
    if translations:
        return 1
    record_build(solutions, notebooks, readme)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from reproml_course.authoring.grade import format_grades, grade_path
    from reproml_course.base.paths import course_dir

    for missing in (path for path in args.paths if not path.exists()):
        raise ReproMLError(f"{missing} does not exist.")
    solutions = args.solutions or course_dir("solutions")
    _prepare_for_parallel(args.jobs)
    grades = grade_path(
        args.paths, solutions, quick=not args.full, timeout=args.timeout, jobs=args.jobs
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
    from reproml_course.authoring.execute import execute_in_place
    from reproml_course.base.notebooks import in_parallel, list_notebooks
    from reproml_course.base.paths import course_dir

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


def _student_path(args: argparse.Namespace) -> int:
    from reproml_course.authoring.student_path import write_student_path
    from reproml_course.base.paths import course_dir

    solutions = args.solutions or course_dir("solutions")
    notebooks = args.notebooks or course_dir("notebooks")
    if args.destination.resolve() in (solutions.resolve(), notebooks.resolve()):
        raise ReproMLError(f"{args.destination} would replace the course's own notebooks.")
    written = write_student_path(notebooks, solutions, args.destination)
    print(f"Wrote {len(written)} filled-in student notebooks to {args.destination}")
    return 0


def _binder(args: argparse.Namespace) -> int:
    from reproml_course.authoring.binder import write_binder
    from reproml_course.base.paths import course_dir

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


COMMANDS = {
    "build": _build,
    "grade": _grade,
    "execute": _execute,
    "student-path": _student_path,
    "binder": _binder,
    "mutants": run_mutants,
    "translate": run_translate,
    "site": run_site,
    **CLASSROOM_COMMANDS,
}


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
