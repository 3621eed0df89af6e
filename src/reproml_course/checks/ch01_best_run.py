"""Chapter 01's check of find_best_run (1.2): the best run on validation accuracy, whatever
the result files look like.

One run of the check draws three folders, as a lab's folder fills up over weeks, written by
more than one script: names that grew a parameter and values with the separator in them
(``model=cnn_small``), a note that is not a result, and in each folder one trap where a
shortcut reads another run as the best:

- "exponent": some values are written ``9.200e-01``; read as text, or without the exponent,
  they look larger than the best;
- "leading dot": the best is written ``.9512``; skipped by a pattern that wants a digit before
  the point, and below ``0.9`` as text;
- "lines": files from another script list their metrics in another order, and some carry a
  ``val_accuracy_top5`` line.

Every folder is drawn until the right answer differs from each shortcut (the best test
accuracy, the lowest, the first, last, oldest or newest file, each misreading), and the
shortcuts from each other, so that each wrong answer fails with the message that describes it.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch01_drawn_folders import (
    METRIC,
    _draw_folder,
    _fits,
    _Result,
    _shortcuts,
)

FINDER_HINT = (
    "Path(folder).glob('*.txt') lists the result files; line.partition('=') splits a line; "
    "float(text) reads any way of writing a number; compare the floats."
)
KINDS = ("lines", "leading dot", "exponent")


def _write(folder: Path, results: list[_Result]) -> None:
    folder.mkdir(parents=True)
    for result in results:
        path = folder / result.name
        path.write_text("".join(f"{k}={v}\n" for k, v in result.lines))
        stamp = result.when.timestamp()
        os.utime(path, (stamp, stamp))  # the newest file is the newest run
    (folder / "notes.md").write_text(f"{METRIC}=0.999\nto do: rerun the CNN\n")


@exercise(
    "1.2",
    "choose the best run on validation accuracy",
    points=2,
    hint=FINDER_HINT,
    course_answers=(
        "reproml.tracking.txt.find_best",
        "reproml.tracking.txt.read_result_files",
        "reproml.tracking.txt.read_result_file",
    ),
    budget=60,
)
def exercise_1_2(find_best_run: Any) -> None:
    rng = random.Random()
    start = datetime(2026, 1, 5, 9, 0, 0)
    with tempfile.TemporaryDirectory() as tmp:
        for number, kind in enumerate(KINDS, start=1):
            results = _draw_folder(rng, kind, start)
            while not _fits(results, kind):  # about a hundred draws at most, in milliseconds
                results = _draw_folder(rng, kind, start)
            folder = Path(tmp) / f"lab-{number}" / "results"
            _write(folder, results)
            _check_folder(find_best_run, folder, results)


def _check_folder(find_best_run: Any, folder: Path, results: list[_Result]) -> None:
    best = max(results, key=lambda r: r.value())
    found = call(find_best_run, folder, what="find_best_run(folder)")
    expect(
        isinstance(found, Path | str),
        f"find_best_run should return the path of the best file, got {type(found).__name__}.",
        "return the path of a result file.",
    )
    found = Path(found)
    by_name = {r.name: r for r in results}
    if found.name in by_name and not (found.is_file() and found.samefile(folder / found.name)):
        raise CheckFailed(
            f"find_best_run returned {str(found)!r}, the name of a file but not its path.",
            "return the folder's path joined with the file's name.",
        )
    if found.name == best.name:
        return
    expect(
        found.name in by_name,
        f"find_best_run returned {found.name!r}, which is not a result file of the folder.",
        "only the .txt files are results.",
    )
    chosen = by_name[found.name]
    picks = _shortcuts(results)
    expect(
        chosen is not picks["test"],
        "find_best_run chose the run with the best test accuracy.",
        "the test set is for reporting the chosen run, once: choose on validation.",
    )
    said = (
        f"find_best_run returned a run with {METRIC}={chosen.value():.4f} but another run has "
        f"{best.value():.4f} (checked on a new folder of {len(results)} result files)"
    )
    as_text = chosen is picks["text"]
    if chosen is picks["exponent"] or (as_text and "e" in chosen.text()):
        raise CheckFailed(
            f"{said}: the chosen one is written {chosen.text()!r}, which is "
            f"{chosen.value():.4f}; read as text, or without its exponent, it looks larger.",
            "turn the whole written value into a number, exponent included, before comparing.",
        )
    if chosen is picks.get("digit first") or (as_text and best.text().startswith(".")):
        raise CheckFailed(
            f"{said}, written {best.text()!r}, without the 0 before the point: it was skipped "
            "or compared as text ('.' sorts before every digit).",
            "turn each written value into a number before comparing; every way of writing "
            "one counts.",
        )
    others = [(k, v) for k, v in chosen.lines if k.startswith(METRIC) and k != METRIC]
    if chosen is picks["prefix"] and others:
        raise CheckFailed(
            f"{said}; its file also has a line {'='.join(others[0])}, which is another metric.",
            f"only the line whose name is exactly {METRIC} holds the validation accuracy.",
        )
    if chosen is picks["first line"]:
        where = (
            f"the first line of its file is {'='.join(chosen.lines[0])}"
            if chosen.lines[0][0] != METRIC
            else f"in the best one's file, {METRIC} is not the first line"
        )
        raise CheckFailed(
            f"{said}; {where}: files written by another script list their metrics in another "
            "order.",
            f"find the line named {METRIC} in each file, wherever it is.",
        )
    raise CheckFailed(
        f"{said}.",
        "read the validation accuracy from inside each file (the names only hold "
        "parameters, the order of the files says nothing) and keep the highest.",
    )
