"""Chapter 01: results in .txt files; the writer's check (1.1). The best-run finder's check
(1.2) is in ch01_best_run.

The writer writes three drawn runs into one new folder (its parent missing too, given once as
a text): a usual one, one parameter with values that are falsy or tiny, many parameters (some
falsy) with a single metric; each name, each value (read back exactly) and what is left in the
folder are checked, and the system's temporary folder is a missing one meanwhile, so that a
temporary file made outside the result folder shows. Then the names a run would get are taken,
and a look whether a name exists says it is free (as if another run took it right after the
look): the writer must refuse, with FileExistsError, and change nothing. Then it is
interrupted twice, as a crash would: by a value that cannot be written, and by a disk that
fills up in the middle of the file (a size limit on a child process). Nothing may be left
behind either time, and the error must reach the caller. The written runs are checked in
ch01_written, the refusal and the crashes in ch01_failures.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.checks.base import exercise
from reproml_course.checks.ch01_failures import (
    _check_disk_full,
    _check_interrupted_value,
    _check_no_overwrite,
)
from reproml_course.checks.ch01_written import _check_one_write

# The course's own writer, and the parts of it that are the exercise (naming the file).
COURSE_WRITERS = (
    "reproml.tracking.txt.write_result_file",
    "reproml.tracking.txt.result_file_name",
    "reproml.tracking.txt.TxtTracker",
)


def _random_run(rng: random.Random) -> tuple[dict[str, Any], dict[str, float]]:
    params = {
        "model": rng.choice(["logreg", "mlp", "cnn"]),
        "optimizer": rng.choice(["sgd", "adam"]),
        "lr": rng.choice([0.1, 0.01, 0.003, 0.001]),
        "seed": rng.randint(0, 9999),
    }
    metrics = {
        "val_accuracy": rng.uniform(0.5, 0.95),
        "test_accuracy": rng.uniform(0.5, 0.95),
        "test_macro_f1": rng.random(),
    }
    return params, metrics


def _writer_cases(rng: random.Random) -> list[tuple[dict[str, Any], dict[str, float]]]:
    """Runs to write, unlike each other: a usual one; one parameter and values that are falsy
    or tiny; many parameters (one added later, some falsy) and a single metric."""
    usual = _random_run(rng)
    one = (
        {"model": rng.choice(["logreg", "mlp", "cnn"])},
        {"val_accuracy": rng.uniform(0.5, 0.95), "train_loss": 0.0, "lr_last": 1e-05},
    )
    params, metrics = _random_run(rng)
    params.update(seed=0, batch=rng.choice([32, 64, 128]), augment=False)
    many = (params, {"test_accuracy": metrics["test_accuracy"]})
    return [usual, one, many]


@exercise(
    "1.1",
    "write one result file, safely",
    points=2,
    course_answers=COURSE_WRITERS,
    budget=60,
)
def exercise_1_1(write_result: Any) -> None:
    """tempfile.NamedTemporaryFile(dir=folder, delete=False) for the temporary file,
    os.link(tmp.name, path) to give it its name without overwriting (it raises FileExistsError),
    os.unlink to remove the temporary name, and repr(float(value)) for numbers that read back
    exactly."""
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        # A folder whose parent does not exist yet: the first write creates both, the next
        # ones find it there, with the earlier results in it.
        folder = Path(tmp) / "lab" / "results"
        for number, (params, metrics) in enumerate(_writer_cases(rng)):
            given = str(folder) if number == 1 else folder  # a folder's name is a text too
            _check_one_write(write_result, given, params, metrics, Path(tmp) / "no-such-folder")
        params, metrics = _random_run(rng)
        _check_no_overwrite(write_result, Path(tmp) / "again", params, metrics)
        _check_interrupted_value(write_result, Path(tmp) / "crash", params, metrics)
        _check_disk_full(write_result, Path(tmp) / "disk-full", params)
