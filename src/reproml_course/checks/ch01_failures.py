"""Exercise 1.1's writer when it must not write: the names a run would get are taken, and
a look whether a name exists says it is free (as if another run took it right after the look):
it must refuse with FileExistsError and change nothing. Then it is interrupted twice, as a
crash would: by a value that cannot be written, and by a disk that fills up in the middle of
the file (a size limit on a child process). Nothing may be left behind either time, and the
error must reach the caller."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.ch01_written import _lines, _nothing_left, _reads_as

INTERRUPTED = "interrupted while writing (a check simulating a crash)"


class Unwritable(float):
    """A metric value that fails however it is turned into text, as a crash mid-write would."""

    def _fail(self, *args: Any) -> Any:
        raise RuntimeError(INTERRUPTED)

    __repr__ = __str__ = __format__ = __float__ = _fail


def _check_no_overwrite(write_result: Any, folder: Path, params: dict, metrics: dict) -> None:
    """Occupy the names the next few seconds would get; the writer must refuse them all, even
    when another run takes the name between a look and a write (the check plays that run)."""
    from reproml.tracking.txt import result_file_name

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now()
    taken = [folder / result_file_name(params, now + timedelta(seconds=s)) for s in range(5)]
    for path in taken:
        path.write_text("earlier=1.0\n")
    with _taken_names_look_free(taken) as looked:
        try:
            returned = write_result(folder, params, metrics)
        except NotImplementedError:
            raise
        except Exception as error:
            returned, refused = None, error  # refusing is right
        else:
            refused = None
    changed = [p.name for p in taken if not p.is_file() or p.read_text() != "earlier=1.0\n"]
    if changed and looked:
        raise CheckFailed(
            "write_result looked whether the name was free, then took it in a second step: "
            "another run that took the name in between (the check played one) was overwritten.",
            "between a look and a write, another run can finish: the name must be taken in "
            "the same step that fails when it exists.",
        )
    expect(
        not changed,
        "write_result replaced a result file that already existed"
        + (" (then raised)." if refused else "."),
        "a run with the same parameters in the same second gets the same name: refuse "
        "(raise an error) instead of writing over the earlier result.",
    )
    expect(
        refused is not None,
        f"write_result returned {returned!r} although its file name was taken by an earlier "
        "result: it should refuse, with an error.",
        "a run with the same parameters in the same second gets the same name, and the caller "
        "must hear that this result was not saved.",
    )
    expect(
        isinstance(refused, FileExistsError),
        f"write_result refused a taken name with {type(refused).__name__}, but the notebook "
        "(like any caller) catches FileExistsError, the error for a name that exists.",
        "let the error of the step that takes the name reach the caller, or raise that one.",
    )
    _nothing_left(folder, taken, "after refusing to overwrite")


@contextlib.contextmanager
def _taken_names_look_free(taken: list[Path]) -> Iterator[list[str]]:
    """While the writer runs, asking whether a taken name exists says no, as if another run
    took it right after the look (what a race does once in a while, here every time). Yields
    the names it was asked about."""
    import os.path
    import pathlib

    names = {os.path.abspath(p) for p in taken} | {os.path.realpath(p) for p in taken}
    looked: list[str] = []

    def lying(original: Any) -> Any:
        def look(path: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                where = os.path.abspath(os.fspath(path))
            except TypeError:
                where = None
            if where in names:
                looked.append(where)
                return False
            return original(path, *args, **kwargs)

        return look

    places = [(os.path, "exists"), (os.path, "lexists"), (os.path, "isfile")]
    places += [(pathlib.Path, "exists"), (pathlib.Path, "is_file")]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name in places]
    for owner, name, _ in saved:
        setattr(owner, name, lying(getattr(owner, name)))
    try:
        yield looked
    finally:
        for owner, name, own in saved:
            if own is None:
                delattr(owner, name)
            else:
                setattr(owner, name, own)


def _check_interrupted_value(write_result: Any, folder: Path, params: dict, metrics: dict):
    """A value that cannot be written, in the middle of the metrics. A writer that raises must
    leave nothing; one that writes the value anyway (``json.dumps`` reads a float's digits
    without asking it) must leave the whole file."""
    items = list(metrics.items())
    broken = dict([*items[:1], ("train_loss", Unwritable(0.5)), *items[1:]])
    try:
        returned = write_result(folder, params, broken)
    except NotImplementedError:
        raise
    except Exception as error:
        _nothing_left(folder, [], "when a value could not be written")
        expect(
            _caused_by(error, RuntimeError, INTERRUPTED),
            f"when a value could not be written, write_result raised {type(error).__name__}: "
            f"{error}, not the error that interrupted it.",
            "after cleaning up, raise the error again: the caller must learn what went wrong.",
        )
        return
    complete = False
    if isinstance(returned, Path | str) and Path(returned).is_file():
        written = _lines(Path(returned))
        complete = written.keys() >= broken.keys() and all(
            _reads_as(written[name], float.__float__(value)) for name, value in broken.items()
        )
    expect(
        complete,
        "write_result returned a file although one of the metrics could not be written.",
        "let the error reach the caller: a result that is half written is no result.",
    )
    _nothing_left(folder, [Path(returned)], "after writing a result")


def _check_disk_full(write_result: Any, folder: Path, params: dict) -> None:
    """The disk fills up in the middle of the file (RLIMIT_FSIZE in a child process), twice:
    a 5 kB result stopped after 300 bytes, and a 1 kB result stopped after 100 bytes. The
    small one stays in the file's buffer until ``flush()``, and a ``close()`` in the clean-up
    then fails again, on what the buffer still holds: the large one does not show that."""
    if sys.platform == "win32" or not hasattr(os, "fork"):
        return  # no fork or file-size limits: the interruption above has to do
    for count, limit in ((200, 300), (40, 100)):
        metrics = {f"metric_{i:03d}": 1 / (i + 3) for i in range(count)}
        _check_one_disk_full(write_result, folder / str(count), params, metrics, limit)


def _check_one_disk_full(
    write_result: Any, folder: Path, params: dict, metrics: dict, limit: int
) -> None:
    import resource
    import signal

    folder.mkdir(parents=True, exist_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: write with a tiny disk, then leave without cleaning anything up
        code = 0
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            write_result(folder, params, metrics)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    returned = os.waitstatus_to_exitcode(status) == 0
    size = sum(len(f"{name}={value!r}\n") for name, value in metrics.items())
    expect(
        not files,
        f"when the disk filled up in the middle of the file ({size:,} bytes, the disk full "
        f"after {limit}), write_result left {files} behind"
        + (", and returned as if it had succeeded." if returned else "."),
        "write everything under a temporary name first, give the file its real name only once "
        "it is complete, and remove the temporary file when writing fails, even when closing "
        "it fails too (closing writes what the file still holds).",
    )


def _caused_by(error: BaseException | None, kind: type, message: str) -> bool:
    """Whether ``error`` is, or was raised from or while handling, the check's own error."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind) and str(error) == message:
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
