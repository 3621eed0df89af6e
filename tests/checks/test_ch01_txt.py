"""Chapter 01's checks against the mistakes students make: writers that are not atomic or
overwrite, finders that compare text or choose on the test set."""

import os
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

from reproml.tracking.txt import result_file_name, write_result_file


def name_for(folder, params) -> Path:
    return Path(folder) / result_file_name(params, datetime.now())


def safe(folder, params, metrics):
    return write_result_file(folder, params, metrics)


def straight_to_the_file(folder, params, metrics):  # a crash leaves half a file
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = name_for(folder, params)
    with open(path, "x") as file:
        for name, value in metrics.items():
            file.write(f"{name}={float(value)!r}\n")
    return path


def whole_text_at_once(folder, params, metrics):  # builds the text first: only a full disk shows
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = name_for(folder, params)
    if path.exists():
        raise FileExistsError(path)
    path.write_text("".join(f"{k}={float(v)!r}\n" for k, v in metrics.items()))
    return path


def temp_file_never_cleaned(folder, params, metrics):  # atomic, but a crash leaves the tmp
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = name_for(folder, params)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False) as tmp:
        for name, value in metrics.items():
            tmp.write(f"{name}={float(value)!r}\n")
    os.link(tmp.name, path)
    os.unlink(tmp.name)
    return path


def cleans_up_but_not_on_close(folder, params, metrics):  # the buffer reaches the disk at close
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = name_for(folder, params)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False) as tmp:
        try:
            for name, value in metrics.items():
                tmp.write(f"{name}={float(value)!r}\n")
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    try:
        os.link(tmp.name, path)
    finally:
        os.unlink(tmp.name)
    return path


def replaces(folder, params, metrics):  # os.replace overwrites an earlier result
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = name_for(folder, params)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False) as tmp:
        try:
            for name, value in metrics.items():
                tmp.write(f"{name}={float(value)!r}\n")
        except BaseException:
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)
    return path


def swallows_errors(folder, params, metrics):
    try:
        return write_result_file(folder, params, metrics)
    except Exception:
        return name_for(folder, params)


def rounds(folder, params, metrics):
    return write_result_file(folder, params, {k: round(v, 4) for k, v in metrics.items()})


def sorted_params(folder, params, metrics):
    return write_result_file(folder, dict(sorted(params.items())), metrics)


@pytest.mark.parametrize(
    ("writer", "message"),
    [
        (straight_to_the_file, "when a value could not be written, write_result left"),
        (whole_text_at_once, "when the disk filled up in the middle of the file"),
        (temp_file_never_cleaned, "write_result left ["),
        (cleans_up_but_not_on_close, "when the disk filled up in the middle of the file"),
        (replaces, "replaced a result file that already existed"),
        (swallows_errors, "replaced a result file that already existed"),  # it said nothing
        (rounds, "was written as"),
    ],
)
def test_a_writer_that_is_not_safe_fails(evaluate, writer, message):
    passed, said = evaluate("1.1", writer)
    assert not passed and message in said


def test_the_safe_writer_passes(evaluate):
    assert evaluate("1.1", safe) == (True, "passed")


def test_parameters_in_another_order_are_another_name(evaluate):
    passed, said = evaluate("1.1", sorted_params)
    assert not passed  # unless the random parameters happen to be sorted already
    assert "does not follow the pattern" in said


def values(folder, metric):
    """(path, value as text) of every result file, read from inside the file."""
    for path in sorted(Path(folder).glob("*.txt")):
        lines = dict(line.partition("=")[::2] for line in path.read_text().splitlines())
        yield path, lines[metric]


def right(folder):
    return max(values(folder, "val_accuracy"), key=lambda pair: float(pair[1]))[0]


def compares_text(folder):
    best = None
    for path in sorted(Path(folder).glob("*.txt")):
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name == "val_accuracy" and (best is None or value > best[1]):
                best = (path, value)
    return best[0]


def on_the_test_set(folder):
    return max(values(folder, "test_accuracy"), key=lambda pair: float(pair[1]))[0]


def every_file(folder):  # notes.md holds a val_accuracy line too
    best = None
    for path in Path(folder).iterdir():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name == "val_accuracy" and (best is None or float(value) > best[1]):
                best = (path, float(value))
    return best[0]


def newest(folder):
    return max(Path(folder).glob("*.txt"))


def from_the_name(folder):  # the parameters from the name: breaks on model=cnn_small
    runs = [dict(f.split("=") for f in p.stem.split("_")[:-1]) for p in Path(folder).glob("*.txt")]
    return runs[0]


@pytest.mark.parametrize(
    ("finder", "message"),
    [
        (compares_text, "the largest value *as text*"),
        (on_the_test_set, "chose the run with the best test accuracy"),
        (every_file, "which is not a result file of the folder"),
        (newest, ""),  # fails; which message depends on what the newest file is
        (from_the_name, "raised ValueError"),
    ],
)
def test_a_finder_that_does_not_choose_on_validation_numbers_fails(evaluate, finder, message):
    passed, said = evaluate("1.2", finder)
    assert not passed and message in said


def test_the_right_finder_passes(evaluate):
    assert evaluate("1.2", right) == (True, "passed")
