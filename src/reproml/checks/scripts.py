"""Running a student's program the way a user would: a fresh process, fresh arguments.

Chapters 02 and 03 have students write programs (an argparse script, a Hydra app); their checks
run them here, several at a time, and read what they wrote. The environment is the notebook's
(the data root, quick mode), with a wide terminal so that argparse prints its usage on one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from reproml.checks.base import CheckFailed

TIMEOUT = 600  # seconds: one quick-mode training, with torch's import


def run_program(
    program: Path,
    args: Sequence[str],
    cwd: Path | None = None,
    what: str = "",
    warnings: bool = False,
) -> subprocess.CompletedProcess:
    """``python program args...``; a stub that raises NotImplementedError is a clear failure.
    Python's warnings are off unless ``warnings``: a library's deprecation notice is not the
    student's output."""
    env = {**os.environ, "COLUMNS": "400"}
    if not warnings:
        env["PYTHONWARNINGS"] = "ignore"
    try:
        done = subprocess.run(
            [sys.executable, str(program), *args],
            capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise CheckFailed(
            f"`{what or program.name}` ran for more than {TIMEOUT} s.",
            "run it yourself in a terminal to see where it hangs.",
        ) from None
    if "NotImplementedError" in done.stderr:
        raise CheckFailed(
            f"{program.name} is not written yet (it raises NotImplementedError).",
            "replace each `raise NotImplementedError(...)` with your code, run the cell that "
            "writes the file, then this one.",
        )
    return done


def run_programs(
    program: Path, runs: Sequence[Sequence[str]], cwd: Path | None = None
) -> list[subprocess.CompletedProcess]:
    """Several runs, one after the other: each may load torch (700 MB), and a notebook on
    Binder has 2 GB for itself and everything it starts."""
    return [run_program(program, args, cwd) for args in runs]


def command_line(program: Path, args: Sequence[str]) -> str:
    return " ".join(["python", program.name, *args])


def last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(nothing)"


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
