"""Chapter 03: a Hydra application of the student's own (3.1 is ``ch03_groups``).

3.2 runs the student's ``train.py`` as a user would, from another folder, on a small data set of
the check's own (``scripts.scratch_data``): once as a single run and once as a job of a
``--multirun`` sweep, with fresh overrides of every group that differ between the two. Each run
must save the configuration these overrides compose, write the metrics of the course's
training on it into the run's own folder, and return the validation accuracy (what a sweeper
optimises), which a Hydra callback of the check's records.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from reproml_course.checks.base import CheckFailed, exercise, expect
from reproml_course.checks.scripts import (
    command_line,
    error_summary,
    expect_same_metrics,
    read_json_object,
    run_program,
    scratch_data,
)

# The course's own Hydra entry point: an app that calls it writes none of its own.
COURSE_ANSWERS = ("reproml.cli.train",)
BUDGET_APP = 400  # seconds; 3.2 runs the app twice and trains twice itself (23 to 75 s here)


class ReturnRecorder(Callback):
    """A Hydra callback the checks add to a student's run (``hydra.callbacks``): it appends what
    each job's function returned to a JSON-lines file, since Hydra itself keeps it nowhere."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        value = job_return._return_value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        record = {
            "folder": str(config.hydra.runtime.output_dir),
            "status": getattr(job_return.status, "name", str(job_return.status)),
            "type": type(value).__name__,
            "value": float(value) if number else None,
        }
        with self.path.open("a") as file:
            file.write(json.dumps(record) + "\n")


def recorder_overrides(path: Path) -> list[str]:
    """The command-line overrides that add ``ReturnRecorder``, writing to ``path``."""
    key = "++hydra.callbacks.reproml_check_return"
    return [f"{key}._target_={ReturnRecorder.__module__}.ReturnRecorder", f"{key}.path={path}"]


def recorded_returns(path: Path) -> dict[str, dict]:
    """{run folder (resolved): record} of what ``ReturnRecorder`` wrote."""
    if not path.is_file():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {str(Path(r["folder"]).resolve()): r for r in records}


def _app(app: Any) -> tuple[Path, Path]:
    folder = Path(app)
    expect(
        folder.is_dir() and (folder / "conf").is_dir(),
        f"{folder} has no conf/ folder.",
        "run the cells that write the application's files first.",
    )
    return folder, folder / "conf"


def _written(conf: Path, *names: str) -> None:
    """Each file exists and holds more than comments (a student notebook's stub is one)."""
    for name in names:
        path = conf / name
        expect(path.is_file(), f"there is no conf/{name}.", "run the cell that writes it.")
        lines = [line.strip() for line in path.read_text().splitlines()]
        expect(
            any(line and not line.startswith("#") for line in lines),
            f"conf/{name} is not written yet (it holds only comments).",
            "replace the `# YOUR CODE HERE` line with the file's content, then run the cell.",
        )


def _compose(conf: Path, overrides: list[str]):
    """The student's configuration, as Hydra composes it; a composition error is a failure."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    text = " ".join(overrides) or "(no overrides)"
    if not (conf / "config.yaml").is_file():
        raise CheckFailed("there is no conf/config.yaml.", "the primary config is config.yaml.")
    stub = (conf / "config.yaml").read_text()
    if "YOUR CODE HERE" in stub and "defaults" not in stub:
        raise CheckFailed("conf/config.yaml is not written yet.")
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(conf.resolve())):
            cfg = compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckFailed(
            f"Hydra cannot compose your configuration with {text}: {first}",
            "each group is a folder, each option a file in it named after the option, and "
            "config.yaml lists the default option of each group.",
        ) from None
    return OmegaConf.to_container(cfg, resolve=True)


def expected_run(composed: dict, data_root: Path) -> tuple[dict[str, float], float]:
    """The metrics of the course's training on a composed configuration (on the check's
    data), and the seconds it took here: how long the student's run may take, roughly."""
    import copy
    import time

    from reproml.training import train

    config = copy.deepcopy(composed)
    config["data"]["root"] = str(data_root)
    started = time.perf_counter()
    metrics = train(config).metrics
    return metrics, time.perf_counter() - started


def _run_app(
    program: Path, overrides: list[str], multirun: bool, tmp: Path, env: dict, seconds: float
) -> tuple[str, Path, dict | None]:
    """Run the app once (or as a one-job sweep) from ``tmp``; check it ended well and left a
    run folder with a saved configuration. (command shown, run folder, what it returned)"""
    shown = command_line(program, [*(["-m"] if multirun else []), *overrides])
    folder = tmp / ("sweep" if multirun else "run")
    returns = tmp / f"returns-{folder.name}.jsonl"
    where = f"hydra.sweep.dir={folder}" if multirun else f"hydra.run.dir={folder}"
    args = [*(["-m"] if multirun else []), *overrides, where, *recorder_overrides(returns)]
    # With warnings, to see Hydra's about version_base.
    done = run_program(
        program, args, cwd=tmp, what=shown, warnings=True, env=env, expected_seconds=seconds
    )
    expect(
        done.returncode == 0,
        f"`{shown}` failed (exit code {done.returncode}): "
        f"{error_summary(done.stderr, program.parent)}",
        "run the same command in a terminal and read the whole error.",
    )
    expect(
        "version_base" not in done.stderr,
        "Hydra warns that version_base is not set: whatever Hydra is installed, the app then "
        "runs with Hydra 1.1's defaults (it changes the working directory, among other things).",
        "say which Hydra behaviour the app was written for, in the decorator.",
    )
    run_dir = folder
    if multirun:  # the job's folder: `0` unless the app's config names its jobs otherwise
        jobs = list(folder.glob("*/.hydra")) if folder.is_dir() else []
        run_dir = jobs[0].parent if len(jobs) == 1 else folder / "0"
    expect(
        (run_dir / ".hydra" / "config.yaml").is_file(),
        f"`{shown}` left no .hydra/config.yaml in the run's folder.",
        "the app must be run through Hydra's decorator, which saves the configuration.",
    )
    return shown, run_dir, recorded_returns(returns).get(str(run_dir.resolve()))


def _check_run_results(
    shown: str, run_dir: Path, composed: dict, expected: dict[str, float], returned: dict | None
) -> None:
    """The configuration these overrides compose saved, the course's metrics for it in the
    run's folder, its validation accuracy returned."""
    expect(
        _saved_config(run_dir / ".hydra" / "config.yaml") == composed,
        f"after `{shown}`, the .hydra/config.yaml of the run is not the configuration these "
        "overrides compose.",
        "let Hydra compose the configuration from the command line.",
    )
    metrics = read_json_object(
        run_dir / "metrics.json",
        f"after `{shown}`, the metrics of the run",
        "with version_base='1.3' Hydra does not change the working directory: ask it where "
        "this run's folder is (in a sweep, each job has its own).",
    )
    expect_same_metrics(
        metrics,
        expected,
        f"`{shown}` did not train the configuration Hydra composed",
        "train with the configuration the decorated function receives, not one of your own.",
    )
    _check_returned(f"`{shown}`", returned, expected)


def _check_returned(what: str, record: dict | None, expected: dict[str, float]) -> None:
    """What the decorated function returned (``record``, from ReturnRecorder) for the run
    ``what``: its validation accuracy."""
    hint = (
        "the decorated function returns the validation accuracy: it is what a sweeper "
        "(Optuna's, for one) optimises, and the test set is kept for the run chosen."
    )
    expect(
        record is not None,
        f"{what} ran, but Hydra never saw the decorated function end.",
        "call the decorated function under `if __name__ == '__main__':`, once.",
    )
    value, val = record["value"], expected["val_accuracy"]
    expect(
        record["type"] != "NoneType",
        f"{what}: the decorated function returns nothing.",
        hint,
    )
    expect(
        value is not None,
        f"{what}: the decorated function returns a {record['type']}, not a number.",
        hint,
    )
    expect(
        not (value == expected.get("test_accuracy") and value != val),
        f"{what}: the decorated function returns the test accuracy ({value:.4f}).",
        hint,
    )
    expect(
        abs(value - val) <= 1e-9,
        f"{what}: the decorated function returns {value!r}, not the run's validation "
        f"accuracy ({val:.4f}).",
        hint,
    )


def _fresh_overrides(rng: random.Random) -> tuple[list[str], list[str]]:
    """Two runs that differ in every group, each value unlike its default (the exercise's
    options, the trainer's 3 epochs and batch size 64, the seed 42, all the data), each
    learning half-way on the check's data (see scripts.scratch_data), so that a run that
    trains something else never gives the same metrics."""
    epochs = rng.sample([2, 4], 2)
    seeds = rng.sample([s for s in range(1, 1000) if s != 42], 2)
    hidden = rng.sample([32, 64, 96, 160], rng.choice([1, 2, 3]))
    single = [
        "optimizer=sgd",
        f"optimizer.lr={rng.choice([0.1, 0.15, 0.2])}",
        f"optimizer.momentum={rng.choice([0.5, 0.6, 0.7])}",
        f"model.hidden_sizes=[{','.join(map(str, hidden))}]",
        f"model.dropout={rng.choice([0.0, 0.1, 0.3])}",
        f"seed={seeds[0]}",
        f"trainer.epochs={epochs[0]}",
        f"trainer.batch_size={rng.choice([16, 24])}",
        "trainer.progress=false",
    ]
    job = [
        "model=logreg",
        f"optimizer.lr={rng.choice([0.002, 0.004, 0.008])}",
        f"seed={seeds[1]}",
        f"trainer.epochs={epochs[1]}",
        f"trainer.batch_size={rng.choice([8, 48, 96])}",
        f"data.train_size={rng.choice([600, 700, 800])}",
        "trainer.progress=false",
    ]
    return single, job


@exercise(
    "3.2", "a Hydra application: @hydra.main", points=3,
    course_answers=COURSE_ANSWERS, budget=BUDGET_APP,
)  # fmt: skip
def exercise_3_2(app: Any) -> None:
    """@hydra.main(version_base='1.3', config_path='conf', config_name='config') on def main(cfg:
    DictConfig) -> float; reproml.training.train(cfg);
    hydra.core.hydra_config.HydraConfig.get().runtime.output_dir is this run's folder; the
    function returns the validation accuracy (a float); call main() under
    `if __name__ == '__main__':`."""
    folder, conf = _app(app)
    program = folder / "train.py"
    expect(program.is_file(), f"there is no {program}.", "run the cell that writes it.")
    single, job = _fresh_overrides(random.Random())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_root = scratch_data(tmp / "data")
        env = {"REPROML_DATA_DIR": str(data_root)}
        for overrides, multirun in ((single, False), (job, True)):
            work = tmp / ("single" if not multirun else "sweep")
            work.mkdir()
            composed = _compose(conf, overrides)
            expected, seconds = expected_run(composed, data_root)
            shown, run_dir, returned = _run_app(program, overrides, multirun, work, env, seconds)
            _check_run_results(shown, run_dir, composed, expected, returned)


def _saved_config(path: Path) -> dict:
    """A run's .hydra/config.yaml, interpolations resolved where they can be."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    saved = OmegaConf.load(path)
    try:
        return OmegaConf.to_container(saved, resolve=True)
    except OmegaConfBaseException:  # e.g. ${hydra:...}, which only a running app resolves
        return OmegaConf.to_container(saved)
