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
behind either time, and the error must reach the caller.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect

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


INTERRUPTED = "interrupted while writing (a check simulating a crash)"


class Unwritable(float):
    """A metric value that fails however it is turned into text, as a crash mid-write would."""

    def _fail(self, *args: Any) -> Any:
        raise RuntimeError(INTERRUPTED)

    __repr__ = __str__ = __format__ = __float__ = _fail


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


def _nothing_left(folder: Path, expected: list[Path], when: str) -> None:
    kept = {Path(p).name for p in expected}
    found = folder.iterdir() if folder.is_dir() else []
    leftovers = sorted(p.name for p in found if p.name not in kept)
    expect(
        not leftovers,
        f"{when}, write_result left {leftovers} behind.",
        "remove the temporary file whenever the result is not saved.",
    )
