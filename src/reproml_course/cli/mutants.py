"""``reproml-course mutants``: the share of its solution's mutants each exercise's check kills.

uv run reproml-course mutants 1.1 1.2          # score these, print the table
uv run reproml-course mutants --write          # score all, keep the result in the record
uv run reproml-course mutants --check          # CI: rescore what changed; fail below 90%
uv run reproml-course mutants 2.1 --list       # the mutants, without running anything
uv run reproml-course mutants --rehash REV reproml_course.checks=reproml_course.checks
                                               # after a pure move: keep the scores of REV
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def add_mutants_command(
    commands: argparse._SubParsersAction, positive: Callable[[str], int]
) -> None:
    mutants = commands.add_parser(
        "mutants", help="score each exercise's check by the mutants of its solution it kills"
    )
    mutants.add_argument("exercises", nargs="*", help="exercise ids (default: every exercise)")
    mutants.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    mutants.add_argument("--write", action="store_true", help="keep the scores in the record")
    mutants.add_argument(
        "--check", action="store_true", help="rescore the exercises whose check or solution changed"
    )
    mutants.add_argument(
        "--rehash",
        nargs="+",
        metavar=("REV", "OLD=NEW"),
        help="keep the scores of the exercises that differ from commit REV by these renames "
        "(or docstrings) only",
    )
    mutants.add_argument("--timeout", type=int, default=300, help="seconds per cell, at least")
    mutants.add_argument(
        "--jobs", type=positive, default=1, help="exercises at a time, a kernel each"
    )


def run_mutants(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from reproml_course.authoring import mutant_record as r
    from reproml_course.authoring import mutants as m
    from reproml_course.base.paths import course_dir

    codes = m.exercise_code(course_dir("solutions"))
    ids = m.require_exercises(codes, args.exercises)
    if args.list:
        for id in ids:
            print(f"{id}: {len(codes[id].mutants)} mutants")
            for mutant in codes[id].mutants:
                print(f"  {mutant.key}")
        return 0
    path = course_dir(str(r.RECORD))
    record = r.read_record(path)
    if args.rehash:
        return _rehash(args.rehash, record, codes, path)
    unscored = [id for id in codes if id not in record]
    if args.check:
        ids = [id for id in ids if id in record and id in m.stale(record, codes)]
        print(f"Changed since the record: {', '.join(ids) or 'none'}.")
        if unscored:  # an exercise enters the record with `mutants ID --write`
            print(f"Not scored yet: {', '.join(unscored)}.")
    bar = tqdm(total=sum(len(codes[id].mutants) for id in ids), unit="mutant", desc="mutants")

    def score(id: str) -> m.Score:
        return m.score_exercise(codes[id], args.timeout, progress=lambda *_: bar.update())

    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        scores = list(pool.map(score, ids))
    bar.close()
    record = r.read_record(path)  # again: another run may have written it meanwhile
    r.merge_scores(record, [s for s in scores if not s.problem])
    if args.write:
        r.write_record(path, record, [s.id for s in scores if not s.problem])
    print(r.format_table(record, list(codes) if args.check else ids))
    problems = [f"{s.id}: not scored, {s.problem}" for s in scores if s.problem]
    judged = [id for id in codes if id not in unscored] if args.check else ids
    problems += r.failures(record, judged)
    for problem in problems:
        print(f"Error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _rehash(arguments: list[str], record: dict, codes: dict, path) -> int:
    from reproml.base.errors import ReproMLError
    from reproml.base.paths import repository_root
    from reproml_course.authoring import mutant_record as r
    from reproml_course.authoring.rehash import parse_renames, rehash

    if repository_root() is None:
        raise ReproMLError("--rehash reads the git history: run it in the course's repository.")
    rev, renames = arguments[0], parse_renames(arguments[1:])
    outcome = rehash(record, codes, rev, renames, repository_root())
    done = [id for id, said in outcome.items() if said.startswith("rehashed")]
    r.write_record(path, record, done)
    for id, said in outcome.items():
        print(f"{id}: {said}")
    print(f"{len(done)} rehashed, {len(outcome) - len(done)} to rescore.")
    return 0 if len(done) == len(outcome) else 1
