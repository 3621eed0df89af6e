"""Chapter 01: results in .txt files.

The writer is interrupted twice, as a crash would: by a value that cannot be written, and by
a disk that fills up in the middle of the file (a size limit on a child process). Nothing may
be left behind either time. The best run is chosen on validation accuracy, among files written
by different hands (``0.91``, ``.93``, ``9.2e-01`` are all numbers), names that grew a
parameter, and a note that is not a result.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect


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


class Unwritable(float):
    """A metric value that fails however it is turned into text, as a crash mid-write would."""

    def _fail(self, *args: Any) -> Any:
        raise RuntimeError("interrupted while writing (a check simulating a crash)")

    __repr__ = __str__ = __format__ = __float__ = _fail


@exercise("1.1", "write one result file, safely", points=2)
def exercise_1_1(write_result: Any) -> None:
    """tempfile.NamedTemporaryFile(dir=folder, delete=False) for the temporary file,
    os.link(tmp.name, path) to give it its name without overwriting (it raises FileExistsError),
    os.unlink to remove the temporary name, and repr(float(value)) for numbers that read back
    exactly."""
    from reproml.tracking.txt import TIMESTAMP_FORMAT, result_file_name

    rng = random.Random()
    params, metrics = _random_run(rng)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "results"
        before = datetime.now().replace(microsecond=0)
        path = call(write_result, folder, params, metrics, what="write_result(folder, ...)")
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
        names = sorted(p.name for p in folder.iterdir())
        expect(
            names == [path.name],
            f"the folder holds {names}, but only the result file should be left in it.",
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
        _check_no_overwrite(write_result, folder / "again", params, metrics)
        _check_interrupted_value(write_result, folder / "crash", params, metrics)
        _check_disk_full(write_result, folder / "disk-full", params)


def _check_values(path: Path, metrics: dict[str, float]) -> None:
    lines = path.read_text().splitlines()
    written = dict(line.partition("=")[::2] for line in lines)
    for name, value in metrics.items():
        expect(
            name in written,
            f"the file has no line for {name!r}: {lines}.",
            "one name=value line per metric.",
        )
        try:
            ok = float(written[name]) == value
        except ValueError:
            ok = False
        expect(
            ok,
            f"{name} was written as {written[name]!r} but the value was {value!r}.",
            "write every digit of the number, so that it reads back exactly.",
        )


def _check_no_overwrite(write_result: Any, folder: Path, params: dict, metrics: dict) -> None:
    from reproml.tracking.txt import result_file_name

    """Occupy the names the next few seconds would get; the writer must refuse them all."""
    folder.mkdir()
    now = datetime.now()
    taken = [folder / result_file_name(params, now + timedelta(seconds=s)) for s in range(5)]
    for path in taken:
        path.write_text("earlier=1.0\n")
    try:
        write_result(folder, params, metrics)
    except NotImplementedError:
        raise
    except Exception:
        pass  # refusing is right
    else:
        raise CheckFailed(
            "write_result replaced a result file that already existed.",
            "a run with the same parameters in the same second gets the same name: refuse "
            "(raise an error) instead of writing over the earlier result.",
        )
    expect(
        all(p.read_text() == "earlier=1.0\n" for p in taken),
        "write_result raised, but changed an existing result file first.",
        "the name must be checked and taken in one step, with the file already complete.",
    )
    _nothing_left(folder, taken, "after refusing to overwrite")


def _check_interrupted_value(write_result: Any, folder: Path, params: dict, metrics: dict):
    """A value that cannot be written, in the middle of the metrics."""
    items = list(metrics.items())
    broken = dict([*items[:1], ("train_loss", Unwritable(0.5)), *items[1:]])
    try:
        returned = write_result(folder, params, broken)
    except NotImplementedError:
        raise
    except Exception:
        returned = None
    expect(
        returned is None,
        "write_result returned a file although one of the metrics could not be written.",
        "let the error reach the caller: a result that is half written is no result.",
    )
    _nothing_left(folder, [], "when a value could not be written")


def _check_disk_full(write_result: Any, folder: Path, params: dict) -> None:
    """The disk fills up after 300 bytes of a 5 kB result (RLIMIT_FSIZE in a child process)."""
    if sys.platform == "win32" or not hasattr(os, "fork"):
        return  # no fork or file-size limits: the interruption above has to do
    import resource
    import signal

    metrics = {f"metric_{i:03d}": 1 / (i + 3) for i in range(200)}
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: write with a tiny disk, then leave without cleaning anything up
        code = 0
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))
            write_result(folder, params, metrics)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    files = sorted(p.name for p in folder.iterdir())
    returned = os.waitstatus_to_exitcode(status) == 0
    expect(
        not files,
        f"when the disk filled up in the middle of the file, write_result left {files} behind"
        + (", and returned as if it had succeeded." if returned else "."),
        "write everything under a temporary name first, give the file its real name only once "
        "it is complete, and remove the temporary file when writing fails.",
    )


def _nothing_left(folder: Path, expected: list[Path], when: str) -> None:
    leftovers = sorted(p.name for p in folder.iterdir() if p not in expected)
    expect(
        not leftovers,
        f"{when}, write_result left {leftovers} behind.",
        "remove the temporary file whenever the result is not saved.",
    )
