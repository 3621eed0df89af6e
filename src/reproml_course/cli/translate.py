"""``reproml-course translate``, and the translated notebooks' part of ``reproml-course build``.

uv run reproml-course translate              # merge today's English into every catalog (fr)
uv run reproml-course translate 03_hydra     # only chapter 03's
uv run reproml-course build                  # also solutions/fr/ and notebooks/fr/ from them
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_translate_command(commands) -> None:
    translate = commands.add_parser(
        "translate",
        help="merge the English solutions into the translation catalogs (locale/<language>/)",
    )
    translate.add_argument("names", nargs="*", help="notebooks (default: each with a catalog)")
    translate.add_argument("--language", default="fr", help="default: fr")
    translate.add_argument(
        "--new", action="store_true", help="create the catalogs of notebooks that have none"
    )


def run_translate(args: argparse.Namespace) -> int:
    from reproml_course.authoring.build_translations import update_catalogs
    from reproml_course.base.paths import course_dir

    locale_dir = course_dir("locale")
    names = args.names or None
    if names is None and not args.new:
        names = [p.stem for p in sorted((locale_dir / args.language).glob("*.po"))]
        if not names:
            print(f"No catalogs in {locale_dir / args.language}: name the notebooks, or --new.")
            return 1
    for state in update_catalogs(course_dir("solutions"), locale_dir, args.language, names):
        left = f"{state.untranslated} to translate, {state.fuzzy} to check (fuzzy)"
        print(f"{state.path}: {state.entries} entries, {left}")
    return 0


def build_translations(solutions: Path, notebooks: Path, check: bool) -> int:
    """Write (or, with ``check``, compare) the translated notebooks; 1 when a catalog is not
    ready or, with ``check``, a translated notebook is out of date."""
    from reproml_course.authoring.build import write_or_compare
    from reproml_course.authoring.build_translations import translated_notebooks
    from reproml_course.authoring.launch import GitHubRepository

    report = translated_notebooks(
        solutions, notebooks, solutions.parent / "locale", GitHubRepository.current()
    )
    failed = False
    for catalog, problems in report.problems.items():
        failed = True
        print(f"Error: {catalog} is behind its English ({len(problems)} entries):", file=sys.stderr)
        for problem in problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
        print(
            "  Run `uv run reproml-course translate`, translate or check those entries "
            "(a fuzzy one: remove its fuzzy flag once checked), then build.",
            file=sys.stderr,
        )
    written, out_of_date = write_or_compare(report.expected, check)
    for path in written:
        print(f"Wrote {path}")
    for path in out_of_date:
        print(f"Error: {path} is out of date: run `uv run reproml-course build`.", file=sys.stderr)
    return 1 if failed or out_of_date else 0
