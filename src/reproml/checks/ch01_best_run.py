"""Chapter 01's check of find_best_run (1.2): the best run on validation accuracy, whatever
the result files look like."""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.checks.ch01_txt import _random_run

FINDER_HINT = (
    "Path(folder).glob('*.txt') lists the result files; line.partition('=') splits a line; "
    "float(text) reads any way of writing a number; compare the floats."
)


def _write_random_runs(folder: Path, rng: random.Random) -> list[Path]:
    from reproml.tracking.txt import write_result_file  # imports the training code

    """Result files as a lab's folder holds them: written over weeks, by different scripts."""
    when = datetime(2026, 1, 1, 9, 0, 0)
    formats = [repr, repr, lambda v: f"{v:.4f}".lstrip("0"), lambda v: f"{v:.3e}"]
    paths = []
    for i in range(rng.randint(8, 12)):
        params, metrics = _random_run(rng)
        if i % 3 == 0:
            params["batch"] = rng.choice([32, 64, 128])  # a parameter added later
        if i % 4 == 1:
            params["model"] = "cnn_small"  # a value with the separator in it
        path = write_result_file(folder, params, metrics, when + timedelta(minutes=i))
        write = rng.choice(formats)
        path.write_text("".join(f"{k}={write(float(v))}\n" for k, v in metrics.items()))
        paths.append(path)
    return paths


def _read(path: Path, metric: str) -> float:
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name == metric:
            return float(value)
    raise KeyError(metric)


@exercise(
    "1.2",
    "choose the best run on validation accuracy",
    points=2,
    hint=FINDER_HINT,
)
def exercise_1_2(find_best_run: Any) -> None:
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        while True:  # until every shortcut gives another answer than the right one
            for path in folder.iterdir():
                path.unlink()
            paths = _write_random_runs(folder, rng)
            val = {p: _read(p, "val_accuracy") for p in paths}
            test = {p: _read(p, "test_accuracy") for p in paths}
            texts = {p: p.read_text().split("val_accuracy=")[1].split()[0] for p in paths}
            best = max(val, key=val.get)
            best_test, best_text = max(test, key=test.get), max(texts, key=texts.get)
            shortcuts = {paths[0], paths[-1], min(paths), max(paths), best_test}
            # Every shortcut gives another answer than the right one, and each wrong answer
            # its own message: the text maximum is not the test set's choice either.
            if best not in shortcuts and best_text not in (best, best_test):
                break
        (folder / "notes.md").write_text("val_accuracy=0.999\nto do: rerun the CNN\n")
        found = call(find_best_run, folder, what="find_best_run(folder)")
        expect(
            isinstance(found, Path | str),
            f"find_best_run should return the path of the best file, got {type(found).__name__}.",
            "return the path of a result file.",
        )
        found = Path(found)
        if found.name == best.name:
            return
        by_name = {p.name: p for p in paths}
        expect(
            found.name in by_name,
            f"find_best_run returned {found.name!r}, which is not a result file of the folder.",
            "only the .txt files are results.",
        )
        chosen = by_name[found.name]
        expect(
            chosen != max(test, key=test.get),
            "find_best_run chose the run with the best test accuracy.",
            "the test set is for reporting the chosen run, once: choose on validation.",
        )
        expect(
            chosen != max(texts, key=texts.get),
            "find_best_run chose the largest value *as text* ('9' > '0' > '.'), not as a "
            "number: the values are written in several ways (0.91, .93, 9.2e-01).",
            "turn each value into a number before comparing.",
        )
        raise CheckFailed(
            f"find_best_run returned a run with val_accuracy={val[chosen]:.4f} but another "
            f"run has {val[best]:.4f} (checked on {len(paths)} new files).",
            "read the validation accuracy from inside each file (the names only hold "
            "parameters) and keep the highest.",
        )
