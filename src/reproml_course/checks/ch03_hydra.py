"""Chapter 03: a Hydra application of the student's own (3.1 is ``ch03_groups``).

3.2 runs the student's ``train.py`` as a user would, from another folder, on a small data set of
the check's own (``scripts.scratch_data``): once as a single run and once as a job of a
``--multirun`` sweep, with fresh overrides of every group that differ between the two. Each run
must save the configuration these overrides compose, write the metrics of the course's
training on it into the run's own folder, and return the validation accuracy (what a sweeper
optimises), which a Hydra callback of the check's records (``ch03_run_results``).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.checks.base import exercise, expect
from reproml_course.checks.ch03_app import _app, _compose
from reproml_course.checks.ch03_run_results import (
    _check_run_results,
    expected_run,
    recorded_returns,
    recorder_overrides,
)
from reproml_course.checks.scripts import command_line, error_summary, run_program, scratch_data

# The course's own Hydra entry point: an app that calls it writes none of its own.
COURSE_ANSWERS = ("reproml.cli.train",)
BUDGET_APP = 400  # seconds; 3.2 runs the app twice and trains twice itself (23 to 75 s here)


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
