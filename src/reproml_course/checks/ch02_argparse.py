"""Chapter 02: a command-line training script of the student's own, written with argparse.

The checks run the script as a user would, on a small data set of the check's own (see
``scripts.scratch_data``), with fresh flags:

- ``--help``: every flag listed, each with a help text;
- the parser's defaults (read from the script's ``build_parser``, no training): values the
  course's training accepts, ``--quick`` off, and for 2.2 the course's batch size;
- good values at the edges (``--model cnn``, ``--lr 0.5``, ``--epochs 1``, ``--momentum 0``,
  ``--seed 0``), which must be accepted, and bad ones (zero and negative learning rates and
  epochs, text, unknown choices, no ``--out``), which must end in argparse's usage error: exit
  code 2, a usage line and an error line that names the flag, nothing written;
- two trainings that differ in every flag, each value different from every default (SGD then
  Adam, one in quick mode and one not, into a new nested folder and into a folder that exists):
  the saved arguments must be the flags given, with their types, and the saved metrics those
  of the course's training code on the configuration the flags describe.

The first and third are ``ch02_flags``'s, the second and last ``ch02_script_runs``'.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.checks.base import exercise, expect
from reproml_course.checks.ch02_flags import _check_bad_values, _check_good_values, _check_help
from reproml_course.checks.ch02_script_runs import _check_defaults, _check_run
from reproml_course.checks.scripts import scratch_data

FLAGS = ("--model", "--optimizer", "--lr", "--momentum", "--epochs", "--seed", "--quick", "--out")
# The course's own script of chapter 02: an answer that calls it writes no argparse of its own.
COURSE_ANSWERS = ("reproml_course.cli.argparse_train",)
# Seconds: the solution's check takes 25 to 70 s here (2 cores, busy), 75 s with torch imported
# before parsing (each refused value then waits for it).
BUDGET = 400
# Each must stop at parsing, with an error that names the flag: [flag, value] (no --out: None).
BAD_VALUES = (
    ["--lr", "0"], ["--lr", "-0.1"], ["--lr", "fast"],
    ["--epochs", "0"], ["--epochs", "-2"], ["--epochs", "1.5"],
    ["--model", "resnet"], ["--optimizer", "rmsprop"],
    ["--seed", "abc"], ["--momentum", "abc"], ["--out", None],
)  # fmt: skip
BAD_BATCH_SIZES = (["--batch-size", "0"], ["--batch-size", "-8"], ["--batch-size", "1.5"])


def _script(script: Any) -> Path:
    path = Path(script)
    expect(
        path.is_file(),
        f"there is no script at {path}.",
        "run the cell that starts with %%writefile first.",
    )
    return path


def _fresh_runs(rng: random.Random, batch: bool) -> list[dict[str, Any]]:
    """Two runs (SGD, Adam) that differ in every flag, each value unlike every default (the
    course's configuration: cnn, lr 0.001 or 0.05, momentum 0.9, 1 or 3 epochs, seed 42,
    batch size 64); one in quick mode, the other not. Adam's run gets a momentum too: it is
    parsed and saved, and must not reach Adam. The values are those each model learns from
    in a few steps, half-way (see scripts.scratch_data): a run that trains something else
    then never gives the same metrics."""
    models = rng.sample(["logreg", "mlp"], 2)
    epochs = rng.sample([2, 4], 2)
    seeds = rng.sample([s for s in range(1, 1000) if s != 42], 2)
    quick = rng.sample([True, False], 2)
    momenta = rng.sample([0.5, 0.6, 0.7, 0.8], 2)
    batches = rng.sample([8, 16, 24, 48], 2)
    lrs = [rng.choice([0.05, 0.08, 0.1]), rng.choice([0.002, 0.003, 0.005])]
    runs = []
    for i, optimizer in enumerate(("sgd", "adam")):
        run = {"model": models[i], "optimizer": optimizer, "lr": lrs[i], "momentum": momenta[i],
               "epochs": epochs[i], "seed": seeds[i], "quick": quick[i]}  # fmt: skip
        if batch:
            run["batch_size"] = batches[i]
        runs.append(run)
    return runs


def _check_script(script: Any, batch: bool) -> None:
    script = _script(script)
    rng = random.Random()
    flags = (*FLAGS, "--batch-size") if batch else FLAGS
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_root = scratch_data(tmp / "data")
        env = {"REPROML_DATA_DIR": str(data_root)}
        work = tmp / "work"  # the runs' working directory: they must write only into --out
        work.mkdir()
        _check_help(script, flags, env, work)
        _check_defaults(script, batch, env, work)
        _check_good_values(script, ["--batch-size", "1"] if batch else [], env, work)
        bad = [list(b) for b in BAD_VALUES] + ([list(b) for b in BAD_BATCH_SIZES] if batch else [])
        _check_bad_values(script, bad, env, tmp / "refused")
        first, second = _fresh_runs(rng, batch)
        existing = tmp / "runs" / "existing"  # a folder the user made, or a run done again
        existing.mkdir(parents=True)
        _check_run(script, first, tmp / "runs" / "new" / "a", data_root, env, work)
        _check_run(script, second, existing, data_root, env, work)
        expect(
            not any(work.iterdir()),
            f"the runs wrote {', '.join(p.name for p in work.iterdir())} into the folder they "
            "were started from.",
            "everything a run writes goes into its --out folder.",
        )


@exercise(
    "2.1", "a command-line training script of your own", points=3,
    course_answers=COURSE_ANSWERS, budget=BUDGET,
)  # fmt: skip
def exercise_2_1(script: Any) -> None:
    """argparse.ArgumentParser(description=...), parser.add_argument('--lr', type=..., default=...,
    help=...), choices=[...] for a closed list, action='store_true' for --quick, type=Path and
    required=True for --out; raise argparse.ArgumentTypeError inside a type function; vars(args)
    is the namespace as a dict, json.dumps(..., default=str) writes a Path; Path.mkdir(parents=True,
    exist_ok=True); reproml.config.default_config(quick=...) and reproml.training.train(config)."""
    _check_script(script, batch=False)


@exercise(
    "2.2", "one more option, through every place it must go", points=2,
    course_answers=COURSE_ANSWERS, budget=BUDGET,
)  # fmt: skip
def exercise_2_2(script: Any) -> None:
    """one add_argument('--batch-size', type=..., default=64, help=...), one line that puts
    args.batch_size into config['trainer']['batch_size'] for every optimizer, and vars(args)
    saves it already."""
    _check_script(script, batch=True)
