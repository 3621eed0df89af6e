"""Chapter 02: a command-line training script of the student's own, written with argparse.

The checks run the script as a user would, with fresh flags: two trainings (SGD with momentum,
Adam without), whose saved arguments must be the flags given and whose metrics must be those of
the course's training code on the same configuration; bad values, which must end in argparse's
usage error (exit code 2, a usage line and an error line, nothing written); and the option the
student adds in 2.2, which must reach the training and the saved record.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, exercise, expect
from reproml.checks.scripts import (
    command_line,
    expect_same_metrics,
    last_lines,
    read_json_object,
    run_programs,
)

FLAGS = ("--model", "--optimizer", "--lr", "--momentum", "--epochs", "--seed", "--quick", "--out")
BAD_VALUES = (["--lr", "-0.1"], ["--lr", "fast"], ["--epochs", "0"], ["--model", "resnet"])


def _script(script: Any) -> Path:
    path = Path(script)
    expect(
        path.is_file(),
        f"there is no script at {path}.",
        "run the cell that starts with %%writefile first.",
    )
    return path


def _expected_metrics(args: dict[str, Any]) -> dict[str, float]:
    """What the course's training code gives for the flags of one run."""
    from reproml.config import default_config
    from reproml.training import train

    config = default_config(quick=True)
    config["model"] = {"name": args["model"]}
    config["optimizer"] = {"name": args["optimizer"], "lr": args["lr"]}
    if args["optimizer"] == "sgd":
        config["optimizer"]["momentum"] = args["momentum"]
    config["trainer"] |= {"epochs": args["epochs"], "progress": False}
    if "batch_size" in args:
        config["trainer"]["batch_size"] = args["batch_size"]
    config["seed"] = args["seed"]
    return train(config).metrics


def _flags(args: dict[str, Any], out: Path) -> list[str]:
    flags = ["--quick", "--out", str(out)]
    for key, value in args.items():
        if key != "quick":
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return flags


def _fresh_runs(rng: random.Random, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    base = {"epochs": rng.choice([1, 2]), "quick": True, **(extra or {})}
    return [
        {"model": rng.choice(["logreg", "mlp"]), "optimizer": "sgd",
         "lr": rng.choice([0.02, 0.05, 0.1]), "momentum": rng.choice([0.5, 0.8]),
         "seed": rng.randint(0, 9999), **base},
        {"model": rng.choice(["logreg", "mlp"]), "optimizer": "adam",
         "lr": rng.choice([0.003, 0.01]), "seed": rng.randint(0, 9999), **base},
    ]  # fmt: skip


def _check_run(script: Path, args: dict[str, Any], out: Path, done, flags=None) -> None:
    """One training run (``flags``, default: those of ``args``): exit 0, ``args`` saved, the
    metrics the course's training code gives for ``args``."""
    shown = command_line(script, flags or _flags(args, out))
    expect(
        done.returncode == 0,
        f"`{shown}` failed (exit code {done.returncode}): {last_lines(done.stderr)}",
        "run the same command in a terminal and read the whole error.",
    )
    saved = read_json_object(out / "args.json", "the arguments of the run")
    for key, value in args.items():
        if key == "momentum" and args["optimizer"] != "sgd":
            continue
        expect(
            saved.get(key) == value,
            f"after `{shown}`, args.json says {key}={saved.get(key, 'nothing')!r}, not {value!r}.",
            "save every parsed argument, with the type argparse gave it.",
        )
    metrics = read_json_object(out / "metrics.json", "the metrics of the run")
    for name in ("val_accuracy", "test_accuracy"):
        expect(
            name in metrics,
            f"metrics.json has no {name!r}: {str(metrics)[:200]}.",
            "save all the metrics the training returns.",
        )
    expect_same_metrics(
        metrics,
        _expected_metrics(args),
        f"`{shown}` did not train what its flags say",
        "each flag must reach the configuration that is trained (a flag parsed but not passed "
        "on changes nothing), and only the chosen optimizer takes its own parameters.",
    )


def _check_bad_values(script: Path, bad: list[list[str]], tmp: Path) -> None:
    outs = [tmp / f"bad-{i}" for i in range(len(bad))]
    runs = [[*args, "--quick", "--out", str(out)] for args, out in zip(bad, outs, strict=True)]
    for args, out, done in zip(bad, outs, run_programs(script, runs), strict=True):
        shown = command_line(script, args)
        lines = done.stderr.strip().splitlines()
        expect(
            done.returncode == 2 and "Traceback" not in done.stderr,
            f"`{shown}` should stop at once with argparse's usage error (exit code 2), but it "
            f"exited with {done.returncode}: {last_lines(done.stderr or done.stdout)}",
            "give each flag a `type` that refuses what it cannot accept, by raising "
            "argparse.ArgumentTypeError: argparse then prints the usage and exits with code 2.",
        )
        expect(
            len(lines) == 2 and lines[0].startswith("usage:") and "error:" in lines[1],
            f"`{shown}` printed {len(lines)} lines on stderr; argparse's answer is two: the "
            f"usage line and the error. Got: {last_lines(done.stderr, 4)}",
            "let argparse report the problem, and print nothing else.",
        )
        expect(
            not out.exists(),
            f"`{shown}` was refused, but created {out.name}/ first.",
            "parse (and so check) every argument before writing anything.",
        )


@exercise("2.1", "a command-line training script of your own", points=3)
def exercise_2_1(script: Any) -> None:
    """argparse.ArgumentParser(description=...), parser.add_argument('--lr', type=..., default=...,
    help=...), choices=[...] for a closed list, action='store_true' for --quick, type=Path and
    required=True for --out; raise argparse.ArgumentTypeError inside a type function; vars(args)
    is the namespace as a dict, json.dumps(..., default=str) writes a Path;
    reproml.config.default_config(quick=...) and reproml.training.train(config)."""
    script = _script(script)
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = _fresh_runs(rng)
        outs = [tmp / f"run-{i}" for i in range(len(runs))]
        help_run, *trained = run_programs(
            script, [["--help"], *(_flags(a, o) for a, o in zip(runs, outs, strict=True))]
        )
        expect(
            help_run.returncode == 0,
            f"`python {script.name} --help` failed: {last_lines(help_run.stderr)}",
        )
        missing = [flag for flag in FLAGS if flag not in help_run.stdout]
        expect(
            not missing,
            f"--help does not list {', '.join(missing)}.",
            "every option of the script is a flag, with a help text.",
        )
        for args, out, done in zip(runs, outs, trained, strict=True):
            _check_run(script, args, out, done)
        _check_bad_values(script, [list(b) for b in BAD_VALUES], tmp)


@exercise("2.2", "one more option, through every place it must go", points=2)
def exercise_2_2(script: Any) -> None:
    """one add_argument('--batch-size', type=..., default=32), one line that puts args.batch_size
    into config['trainer']['batch_size'], and vars(args) saves it already."""
    script = _script(script)
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batch = rng.choice([16, 64, 128])
        run, plain = _fresh_runs(rng, {"batch_size": batch})
        plain.pop("batch_size")
        outs = [tmp / "with", tmp / "without"]
        done, default = run_programs(script, [_flags(run, outs[0]), _flags(plain, outs[1])])
        if done.returncode == 2 and "batch" in done.stderr:
            raise CheckFailed(
                f"the script does not know --batch-size: {last_lines(done.stderr)}",
                "add the flag to the parser first.",
            )
        _check_run(script, run, outs[0], done)
        from reproml.config import default_config

        course_default = default_config()["trainer"]["batch_size"]
        saved = read_json_object(outs[1] / "args.json", "the arguments of the run")
        expect(
            default.returncode != 0 or saved.get("batch_size") == course_default,
            f"without --batch-size the script trains with a batch size of "
            f"{saved.get('batch_size', 'nothing')!r}, not the course's default {course_default}.",
            "the flag's default is the value the course's configuration has, so that a run "
            "without the flag is the run it always was.",
        )
        _check_run(
            script, {**plain, "batch_size": course_default}, outs[1], default,
            _flags(plain, outs[1]),
        )  # fmt: skip
        _check_bad_values(script, [["--batch-size", "0"], ["--batch-size", "1.5"]], tmp)
