"""``reproml-rerun RUN_ID``: train a logged MLflow run again and compare, metric by metric.

Exit status, as ``diff``: 0 when every metric is identical, 1 when some differ, 2 on an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from reproml.base.errors import ReproMLError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reproml-rerun",
        description="Re-run a logged MLflow run from its own config.yaml and compare the results.",
    )
    parser.add_argument("run_id", help="the MLflow run to reproduce")
    parser.add_argument("--tracking-uri", help="default: $MLFLOW_TRACKING_URI, else mlflow.db")
    parser.add_argument("--data-root", help="where the data is now, if it moved")
    parser.add_argument("--no-log", action="store_true", help="do not log the re-run to MLflow")
    parser.add_argument(
        "--trust",
        action="store_true",
        help="build whatever the logged config names (your own store only): by default, only "
        "the course's models, optimizers, schedules and trackers",
    )
    args = parser.parse_args(argv)

    from reproml_course.chapters.audit import rerun

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {"data.root": args.data_root} if args.data_root else {}
    try:
        comparison = rerun(
            args.run_id,
            tracking_uri=args.tracking_uri,
            overrides=overrides,
            log=not args.no_log,
            trust=args.trust,
        )
    except ReproMLError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    print(comparison)
    return 0 if comparison.identical else 1


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
