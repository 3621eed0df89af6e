"""Running a student's program the way a user would: a fresh process, fresh arguments.

Chapters 02 and 03 have students write programs (an argparse script, a Hydra app); their checks
run them here, one at a time, and read what they wrote. The environment is the notebook's, with
a wide terminal so that argparse prints its usage on one line, and, where a check asks for it,
a data root of the check's own (``scratch_data``): a small synthetic Fashion-MNIST on which a run
in full mode takes seconds, so that a check can run a program without ``--quick`` and an answer
that trains the wrong configuration fails in seconds rather than after a full training.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from reproml_course.checks.base import CheckFailed

TIMEOUT = 600  # seconds: one quick-mode training, with torch's import
# The check's data set: a test set (599 images) whose accuracy can equal a validation accuracy
# (100 images in full mode) only at 0 or 1; each image's share of its class's template drawn
# from 0 to SCRATCH_SIGNAL, so that some images are easy (a few steps learn them) and some are
# noise (no model learns them all, and two models that differ disagree on them).
SCRATCH_TRAIN, SCRATCH_TEST, SCRATCH_SIGNAL = 1000, 599, 1.0


def run_program(
    program: Path,
    args: Sequence[str],
    cwd: Path | None = None,
    what: str = "",
    warnings: bool = False,
    env: Mapping[str, str] | None = None,
    expected_seconds: float | None = None,
) -> subprocess.CompletedProcess:
    """``python program args...``; a stub that raises NotImplementedError is a clear failure.
    Python's warnings are off unless ``warnings``: a library's deprecation notice is not the
    student's output. ``env``: variables set for this run (e.g. the data root).
    ``expected_seconds``: how long the course's code takes for what the program was asked to
    do; a program still running long after that (``slow_limit``) is stopped, with a failure
    that says so, rather than left to train something else for minutes."""
    env = {**os.environ, "COLUMNS": "400", **(env or {})}
    if not warnings:
        env["PYTHONWARNINGS"] = "ignore"
    limit = TIMEOUT if expected_seconds is None else slow_limit(expected_seconds)
    try:
        done = subprocess.run(
            [sys.executable, str(program), *args],
            capture_output=True, text=True, timeout=limit, cwd=cwd, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        if expected_seconds is None:
            raise CheckFailed(
                f"`{what or program.name}` ran for more than {TIMEOUT} s.",
                "run it yourself in a terminal to see where it hangs.",
            ) from None
        raise CheckFailed(
            f"`{what or program.name}` was still running after {limit:.0f} s, where the "
            f"course's training of what it was asked takes {expected_seconds:.0f} s here: it "
            "trains something else.",
            "check that every value of the command line reaches the training (a configuration "
            "of your own, more epochs or the full data set take much longer).",
        ) from None
    if "NotImplementedError" in done.stderr:
        raise CheckFailed(
            f"{program.name} is not written yet (it raises NotImplementedError).",
            "replace each `raise NotImplementedError(...)` with your code, run the cell that "
            "writes the file, then this one.",
        )
    return done


def slow_limit(expected_seconds: float) -> float:
    """How long a program may run for work the course's code does in ``expected_seconds``
    (measured in the notebook's process): room for starting Python and importing torch, which
    the notebook has done already, and for a machine that is busy."""
    return min(TIMEOUT, 60 + 10 * expected_seconds)


def run_programs(
    program: Path,
    runs: Sequence[Sequence[str]],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[subprocess.CompletedProcess]:
    """Several runs, one after the other: each may load torch (700 MB), and a notebook on
    Binder has 2 GB for itself and everything it starts."""
    return [run_program(program, args, cwd, env=env) for args in runs]


def command_line(program: Path, args: Sequence[str]) -> str:
    return " ".join(["python", program.name, *args])


def last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(nothing)"


_MARKERS = re.compile(r"\s*[\^~]+[\s\^~]*")  # Python 3.11's pointers under the failing code
_NOISE = ("Set the environment variable HYDRA_FULL_ERROR",)
_FRAME = re.compile(r'\s+File "(?P<file>.+)", line (?P<line>\d+)')


def error_summary(text: str, program: Path | None = None) -> str:
    """The line that says what went wrong in a program's stderr: the exception of the last
    traceback (not the ``^^^^`` under the code, nor Hydra's remark about HYDRA_FULL_ERROR),
    with the last line of ``program`` (a file, or a folder of files) the traceback went
    through; without a traceback, the last line that says something."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        tail = lines[starts[-1] + 1 :]
        where = ""
        for line in tail:
            frame = _FRAME.match(line)
            if frame and _inside(Path(frame["file"]), program):
                where = f" ({Path(frame['file']).name}, line {frame['line']})"
        for line in tail:
            if line.strip() and not line[0].isspace() and not _MARKERS.fullmatch(line):
                return line.strip() + where
    said = [
        line.strip()
        for line in lines
        if line.strip() and not _MARKERS.fullmatch(line) and not line.startswith(_NOISE)
    ]
    return said[-1] if said else "(nothing on stderr)"


def _inside(file: Path, program: Path | None) -> bool:
    if program is None:
        return True
    try:
        file, program = file.resolve(), program.resolve()
    except OSError:
        return False
    return file == program or program in file.parents


def read_json_object(path: Path, what: str, hint: str = "") -> dict:
    """The JSON object the student's program had to write at ``path``; a failure if it did
    not (``hint``: why it might be elsewhere)."""
    if not path.is_file():
        raise CheckFailed(f"{what} was not written: no file {path.name} in {path.parent}.", hint)
    try:
        value = json.loads(path.read_text())
    except ValueError:
        raise CheckFailed(f"{path.name} is not JSON.", "write it with json.dumps.") from None
    if not isinstance(value, dict):
        raise CheckFailed(f"{path.name} holds a {type(value).__name__}, not a JSON object.")
    return value


def expect_same_metrics(saved: dict, expected: dict, problem: str, hint: str) -> None:
    """The metrics a student's program saved are those the course's code gives; else the
    failure says which differ (``problem`` starts the sentence)."""
    wrong = {k: (saved.get(k), v) for k, v in expected.items() if saved.get(k) != v}
    if wrong:
        raise CheckFailed(
            f"{problem}: the course's training code gives "
            + ", ".join(f"{k}={v:.4f}" for k, (_, v) in wrong.items())
            + " for this configuration, the program saved "
            + ", ".join(f"{k}={got}" for k, (got, _) in wrong.items())
            + ".",
            hint,
        )


def scratch_data(root: Path) -> Path:
    """Write a small synthetic Fashion-MNIST (torchvision's raw IDX files) under ``root`` and
    return ``root``, for ``REPROML_DATA_DIR``: each class a fixed random template, each image
    that template blended with noise in a share of its own, so that runs that differ give
    different metrics (every model learns some images, none learns them all)."""
    import numpy as np

    from reproml.base.paths import RAW_FILES, raw_folder

    rng = np.random.default_rng(20240611)
    templates = rng.integers(0, 256, size=(10, 28, 28))
    arrays = []
    for count in (SCRATCH_TRAIN, SCRATCH_TEST):
        labels = np.arange(count) % 10
        rng.shuffle(labels)
        noise = rng.integers(0, 256, size=(count, 28, 28))
        signal = rng.uniform(0, SCRATCH_SIGNAL, size=(count, 1, 1))
        images = signal * templates[labels] + (1 - signal) * noise
        arrays += [images.astype(np.uint8), labels.astype(np.uint8)]
    folder = raw_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    # RAW_FILES: train images, train labels, test images, test labels
    for name, array in zip(RAW_FILES, (arrays[0], arrays[1], arrays[2], arrays[3]), strict=True):
        header = struct.pack(">I", 0x0800 | array.ndim)
        header += struct.pack(f">{array.ndim}I", *array.shape)
        (folder / name).write_bytes(header + np.ascontiguousarray(array).tobytes())
    return root
