"""Chapter 01: one ``.txt`` file per run, its name encoding the parameters and a timestamp.

This is how many people start, and the course keeps it honest: the scheme works for three runs
and breaks in the ways this module does not hide.

* Names grow with every parameter you record: ``model=cnn_optimizer=adam_lr=0.001_...``.
* ``_`` separates the fields, so a value containing ``_`` (``model=cnn_small``) cannot be read
  back: ``read_result_files`` stops with an error naming the file. Names cannot contain it
  either (``batch_size``), which the writer refuses at once.
* A parameter added later is missing from every older name: those runs read back as ``None``,
  and nothing tells what value they really used.
* Two runs with the same parameters in the same second get the same name. The writer refuses
  to overwrite the first one, so the second result cannot be stored at all.
* Nothing records the code, the data or the environment that produced a number.

Writing, at least, is safe: a file appears complete or not at all, even after a crash.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reproml.base.errors import ReproMLError
from reproml.config import flatten_config
from reproml.tracking.base import Kept, Tracker

if TYPE_CHECKING:
    from reproml.training import TrainingResult


SEPARATOR = "_"
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
SUFFIX = ".txt"


class ResultFileError(ReproMLError):
    """A result file cannot be written or read back."""


def result_file_name(params: Mapping[str, Any], when: datetime) -> str:
    """``model=cnn_lr=0.001_20261123-093512.txt``: the parameters, then the timestamp."""
    fields = []
    for key, value in params.items():
        if SEPARATOR in key or "=" in key:
            raise ResultFileError(
                f"Cannot use {key!r} as a name in a file name: it contains {SEPARATOR!r} or '='."
                " Pick a shorter name, e.g. 'bs' for batch_size."
            )
        text = str(value)
        for forbidden in ("/", "\\", "\0", "\n"):
            if forbidden in text or forbidden in key:
                raise ResultFileError(
                    f"Cannot put {key}={text!r} in a file name: it contains {forbidden!r}."
                    " Leave this parameter out of the name."
                )
        fields.append(f"{key}={text}")
    return SEPARATOR.join([*fields, when.strftime(TIMESTAMP_FORMAT)]) + SUFFIX


def write_result_file(
    folder: str | os.PathLike[str],
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    when: datetime | None = None,
) -> Path:
    """Write ``metrics`` (one ``name=value`` line each) to a file named after ``params``.

    The file is written to a temporary name and linked into place in one step, so a crash never
    leaves half a file, and an existing result is never overwritten.
    """
    folder = Path(folder)
    path = folder / result_file_name(params, when or datetime.now())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=folder, prefix=".writing-", suffix=SUFFIX, delete=False
        ) as tmp:
            try:
                for name, value in metrics.items():
                    tmp.write(f"{name}={float(value)!r}\n")
                tmp.flush()
                os.fsync(tmp.fileno())
            except BaseException:
                with contextlib.suppress(OSError):
                    tmp.close()  # on a full disk, closing fails too: it flushes what is left
                os.unlink(tmp.name)
                raise
        try:
            os.link(tmp.name, path)  # atomic, and fails if the name is taken
        finally:
            os.unlink(tmp.name)
    except FileExistsError:
        raise ResultFileError(
            f"{path} already exists: a run with the same parameters finished in the same second."
            " File names cannot tell the two runs apart, so this result was not saved."
        ) from None
    except OSError as error:
        raise ResultFileError(f"Cannot write results to {folder}: {error.strerror}.") from None
    return path


def parse_result_file_name(name: str) -> dict[str, Any]:
    """The parameters and timestamp a file name encodes, values converted back to numbers."""
    if not name.endswith(SUFFIX):
        raise ResultFileError(f"{name}: not a result file (no {SUFFIX} suffix).")
    *fields, stamp = name.removesuffix(SUFFIX).split(SEPARATOR)
    try:
        row: dict[str, Any] = {"timestamp": datetime.strptime(stamp, TIMESTAMP_FORMAT)}
    except ValueError:
        raise ResultFileError(f"{name}: {stamp!r} is not a timestamp.") from None
    for field in fields:
        key, equals, value = field.partition("=")
        if not equals:
            raise ResultFileError(
                f"{name}: cannot read {field!r}, which has no '='. A value containing"
                f" {SEPARATOR!r} makes the name ambiguous."
            )
        row[key] = _number_or_text(value)
    return row


def read_result_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters from the name, metrics from the content, and the file name itself."""
    path = Path(path)
    row = parse_result_file_name(path.name)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        name, equals, value = line.partition("=")
        if not equals:
            raise ResultFileError(f"{path}: line {number} is not name=value: {line!r}.")
        row[name] = _number_or_text(value)
    row["file"] = path.name
    return row


def read_result_files(folder: str | os.PathLike[str]):
    """Every result file of a folder as a table (a pandas DataFrame), oldest first.

    A parameter missing from some file names (added later) shows as a missing value.
    """
    import pandas as pd

    folder = Path(folder)
    if not folder.is_dir():
        raise ResultFileError(f"{folder} is not a folder of result files.")
    rows = [read_result_file(path) for path in sorted(folder.glob(f"*{SUFFIX}"))]
    table = pd.DataFrame(rows)
    return table.sort_values("timestamp", kind="stable").reset_index(drop=True) if rows else table


def find_best(folder: str | os.PathLike[str], metric: str = "test_accuracy") -> dict[str, Any]:
    """The row of the run with the highest ``metric`` (the first one on a tie)."""
    table = read_result_files(folder)
    if table.empty:
        raise ResultFileError(f"{folder} holds no result files.")
    if metric not in table:
        raise ResultFileError(
            f"No run in {folder} recorded {metric!r}. Recorded: "
            + ", ".join(c for c in table.columns if c not in ("timestamp", "file"))
        )
    values = table[metric].astype(float)
    if values.isna().all():
        raise ResultFileError(f"No run in {folder} has a value for {metric!r}.")
    return table.loc[values.idxmax()].to_dict()


def _number_or_text(text: str) -> Any:
    """``"3"`` -> 3, ``"0.001"`` -> 0.001, ``"adam"`` -> "adam": the types the name lost."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


class TxtTracker(Tracker):
    """``tracking=txt``: one result file per run in ``folder``, named after ``params``."""

    def __init__(self, folder: str = "results", params: Mapping[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.params = dict(params or {})  # name in the file name -> dotted config key

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder):
                pass
        except OSError as error:
            raise ResultFileError(
                f"Cannot write results to {self.folder}: {error.strerror}."
                " Choose another folder with tracking.folder=PATH."
            ) from None

    def finish(self, result: TrainingResult) -> Kept:
        flat = flatten_config(result.config)  # model.name included, derived from its _target_
        params = {name: flat.get(key) for name, key in self.params.items()}
        path = write_result_file(self.folder, params, result.metrics)
        return Kept(f"result file {path}")
