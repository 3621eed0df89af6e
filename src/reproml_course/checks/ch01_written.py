"""What exercise 1.1's writer must leave once it wrote a run: one file in the folder,
named after the run's parameters and its time, whose lines give back each value exactly, and
nothing else (the system's temporary folder is a missing one meanwhile, so that a temporary
file made outside the result folder shows)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, expect


def _check_one_write(
    write_result: Any, given: Path | str, params: dict, metrics: dict, elsewhere: Path
) -> None:
    from reproml.tracking.txt import TIMESTAMP_FORMAT, result_file_name

    folder = Path(given)
    earlier = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    before = datetime.now().replace(microsecond=0)
    with _system_temp_folder(elsewhere):
        try:
            path = call(write_result, given, params, metrics, what="write_result(folder, ...)")
        except CheckFailed as failure:
            if str(elsewhere) in failure.problem:
                raise CheckFailed(
                    "write_result made its temporary file in the system's temporary folder, "
                    "not in the result folder.",
                    "the temporary file goes in the same folder as the result: the last step, "
                    "giving it its name, must not cross disks.",
                ) from None
            raise
    after = datetime.now()
    expect(
        isinstance(path, Path | str) and Path(path).is_file(),
        f"write_result should return the path of the file it wrote, got {path!r}.",
        "return the path of the result file.",
    )
    path = Path(path)
    expect(
        path.parent.resolve() == folder.resolve(),
        f"the file went to {path.parent}, not into the folder given ({folder}).",
        "create the folder if it does not exist, and write inside it.",
    )
    left = sorted(p.name for p in folder.iterdir() if p.name not in earlier)
    expect(
        left == [path.name],
        f"the call left {left} in the folder, but only the result file should be left in it.",
        "a temporary file must not outlive the call.",
    )
    stamps = {
        result_file_name(params, before + timedelta(seconds=s))
        for s in range(int((after - before).total_seconds()) + 2)
    }
    expect(
        path.name in stamps,
        f"the file name {path.name!r} does not follow the pattern "
        f"{result_file_name(params, before)!r}.",
        f"key=value for each parameter in the order given, then the time as "
        f"{TIMESTAMP_FORMAT!r}, all joined with '_', then '.txt'.",
    )
    _check_values(path, metrics)


@contextlib.contextmanager
def _system_temp_folder(elsewhere: Path) -> Iterator[None]:
    """The system's temporary folder is, for the call, a folder that does not exist: a
    temporary file made there (not in the result folder) shows as an error naming it."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(elsewhere)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def _check_values(path: Path, metrics: dict[str, float]) -> None:
    written = _lines(path)
    for name, value in metrics.items():
        expect(
            name in written,
            f"the file has no line for {name!r}: {path.read_text().splitlines()}.",
            "one name=value line per metric, whatever its value.",
        )
        expect(
            _reads_as(written[name], value),
            f"{name} was written as {written[name]!r} but the value was {value!r}.",
            "write every digit of the number, so that it reads back exactly.",
        )


def _lines(path: Path) -> dict[str, str]:
    return dict(line.partition("=")[::2] for line in path.read_text().splitlines())


def _reads_as(text: str, value: float) -> bool:
    try:
        return float(text) == value
    except ValueError:
        return False


def _nothing_left(folder: Path, expected: list[Path], when: str) -> None:
    kept = {Path(p).name for p in expected}
    found = folder.iterdir() if folder.is_dir() else []
    leftovers = sorted(p.name for p in found if p.name not in kept)
    expect(
        not leftovers,
        f"{when}, write_result left {leftovers} behind.",
        "remove the temporary file whenever the result is not saved.",
    )
