"""Chapter 01: results in .txt files."""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.tracking.txt import TIMESTAMP_FORMAT, result_file_name, write_result_file


def _random_run(rng: random.Random) -> tuple[dict[str, Any], dict[str, float]]:
    params = {
        "model": rng.choice(["logreg", "mlp", "cnn"]),
        "optimizer": rng.choice(["sgd", "adam"]),
        "lr": rng.choice([0.1, 0.01, 0.003, 0.001]),
        "seed": rng.randint(0, 9999),
    }
    metrics = {"test_accuracy": round(rng.uniform(0.5, 0.95), 4), "test_macro_f1": rng.random()}
    return params, metrics


@exercise("1.1", "write one result file, safely", points=2)
def exercise_1_1(write_result: Any) -> None:
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
            "return the Path you wrote to.",
        )
        path = Path(path)
        expect(
            path.parent.resolve() == folder.resolve(),
            f"the file went to {path.parent}, not into the folder given ({folder}).",
            "create the folder if needed (mkdir(parents=True, exist_ok=True)) and write inside it.",
        )
        names = sorted(p.name for p in folder.iterdir())
        expect(
            names == [path.name],
            f"the folder holds {names}, but only the result file should be left in it.",
            "delete or rename the temporary file once the result is in place.",
        )
        stamps = {
            result_file_name(params, before + timedelta(seconds=s))
            for s in range(int((after - before).total_seconds()) + 2)
        }
        expect(
            path.name in stamps,
            f"the file name {path.name!r} does not follow the pattern "
            f"{result_file_name(params, before)!r}.",
            "join key=value for each parameter, in order, with '_', then the time as "
            f"{TIMESTAMP_FORMAT!r} and '.txt'.",
        )
        lines = path.read_text().splitlines()
        written = dict(line.partition("=")[::2] for line in lines)
        for name, value in metrics.items():
            expect(
                name in written,
                f"the file has no line for {name!r}: {lines}.",
                "write one name=value line per metric.",
            )
            try:
                ok = float(written[name]) == value
            except ValueError:
                ok = False
            expect(
                ok,
                f"{name} was written as {written[name]!r} but the value was {value!r}.",
                "write repr(float(value)) so the number reads back exactly.",
            )
        _check_no_overwrite(write_result, folder / "again", params, metrics)


def _check_no_overwrite(write_result: Any, folder: Path, params: dict, metrics: dict) -> None:
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
            "(raise an error) instead of writing over it, e.g. with os.link or mode 'x'.",
        )
    expect(
        all(p.read_text() == "earlier=1.0\n" for p in taken),
        "write_result raised, but changed an existing result file first.",
        "check that the name is free before (or while) putting the file in place.",
    )
    leftovers = sorted(p.name for p in folder.iterdir() if p not in taken)
    expect(
        not leftovers,
        f"after refusing, write_result left {leftovers} behind.",
        "remove the temporary file when the final name is taken.",
    )


def _write_random_runs(folder: Path, rng: random.Random) -> list[Path]:
    when = datetime(2026, 1, 1, 9, 0, 0)
    paths = []
    for i in range(rng.randint(6, 12)):
        params, metrics = _random_run(rng)
        if i % 3 == 0:
            params["batch"] = rng.choice([32, 64, 128])  # a parameter added later
        paths.append(write_result_file(folder, params, metrics, when + timedelta(minutes=i)))
    return paths


@exercise("1.2", "find the best run in a folder of result files", points=2)
def exercise_1_2(find_best_run: Any) -> None:
    rng = random.Random()
    metric = rng.choice(["test_accuracy", "test_macro_f1"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        while True:  # until the best run is neither the first nor the last by name or by time
            for path in folder.iterdir():
                path.unlink()
            paths = _write_random_runs(folder, rng)
            values = {p: float(p.read_text().split(f"{metric}=")[1].split()[0]) for p in paths}
            best = max(values, key=values.get)
            if best not in {paths[0], paths[-1], min(paths), max(paths)}:
                break
        (folder / "notes.md").write_text("not a result file\n")
        found = call(find_best_run, folder, metric, what=f"find_best_run(folder, {metric!r})")
        expect(
            isinstance(found, Path | str),
            f"find_best_run should return the path of the best file, got {type(found).__name__}.",
        )
        found = Path(found)
        if found.name == best.name:
            return
        expect(
            found.name in {p.name for p in paths},
            f"find_best_run returned {found.name!r}, which is not a result file of the folder.",
            "only look at the *.txt files.",
        )
        expect(
            values[folder / found.name] < values[best],
            "find_best_run returned a run tied with the best but not the first one.",
        )
        raise CheckFailed(
            f"find_best_run returned a run with {metric}={values[folder / found.name]} but "
            f"another run has {values[best]} (checked on {len(paths)} new files, "
            f"metric {metric!r}).",
            "read the metric from inside each file (the names only hold parameters), and "
            "compare numbers, not strings.",
        )
