"""``reproml-course site``: the course's website, built offline from the repository.

uv run reproml-course site                  # _site/en/ and _site/fr/, links checked
uv run reproml-course site --external-links # also fetch every other host's link (needs network)
python -m http.server -d _site              # then open http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_site_command(commands) -> None:
    site = commands.add_parser("site", help="build the course's website (English and French)")
    site.add_argument("--out", type=Path, default=Path("_site"), help="default: _site")
    site.add_argument(
        "--external-links",
        action="store_true",
        help="also check the links to other hosts (Binder, Colab, docs): needs the network",
    )


def run_site(args: argparse.Namespace) -> int:
    from reproml_course.authoring.site import build_site
    from reproml_course.authoring.site_links import check_external_links, check_site_links

    started = time.perf_counter()
    for tree in build_site(args.out):
        print(f"Built {tree}")
    report = check_site_links(args.out)
    for problem in report.broken:
        print(f"Error: broken link in {problem}", file=sys.stderr)
    if report.broken:
        print(f"{len(report.broken)} broken links: fix the sources, build again.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"{report.pages} pages, every internal link and image found ({seconds:.0f} s).")
    print(f"Open {args.out / 'index.html'}, or serve it: python -m http.server -d {args.out}")
    if args.external_links:
        failed = check_external_links(report.external)
        for problem in failed:
            print(f"Error: external link {problem}", file=sys.stderr)
        print(f"{len(report.external) - len(failed)}/{len(report.external)} external links answer.")
        return 1 if failed else 0
    return 0
