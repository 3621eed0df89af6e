"""What chapter 02's script does with its values: the parser's defaults, read in a child
process from the script's ``build_parser`` (no training), are values the course's training
accepts; a training run with fresh flags saves the arguments given, with their types, and the
metrics of the course's training on the configuration the flags describe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.scripts import (
    command_line,
    error_summary,
    expect_same_metrics,
    read_json_object,
    run_program,
)

DEFAULTS_MARK = "@@reproml-check-defaults@@"
# Run in a child process: the student's module imported (its `main()` stays under its
# `if __name__ == "__main__":`), its parser asked for the values of a run without flags.
DEFAULTS_PROBE = """
import importlib.util, json, sys
path, mark, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.argv = [path]
spec = importlib.util.spec_from_file_location("student_script", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
parser = module.build_parser()
found = {name: vars(parser.parse_args(argv)) for name, argv in cases}
print(mark + json.dumps(found, default=str))
"""


def _config(args: dict[str, Any], data_root: Path | None = None) -> dict[str, Any]:
    """The configuration a run with the flags ``args`` must train: the course's defaults, then
    each flag in its place, a momentum only for SGD."""
    from reproml.config import default_config, option

    config = default_config(quick=bool(args["quick"]))
    if data_root is not None:
        config["data"]["root"] = str(data_root)
    config["model"] = option("model", args["model"])
    config["optimizer"] = option("optimizer", args["optimizer"]) | {"lr": args["lr"]}
    if args["optimizer"] == "sgd":
        config["optimizer"]["momentum"] = args["momentum"]
    config["trainer"] |= {"epochs": args["epochs"], "progress": False}
    if "batch_size" in args:
        config["trainer"]["batch_size"] = args["batch_size"]
    config["seed"] = args["seed"]
    return config


def _flags(args: dict[str, Any], out: Path) -> list[str]:
    flags = []
    for key, value in args.items():
        if key == "quick":
            flags += ["--quick"] if value else []
        else:
            flags += [f"--{key.replace('_', '-')}", str(value)]
    return [*flags, "--out", str(out)]


def _check_defaults(script: Path, batch: bool, env: dict[str, str], tmp: Path) -> None:
    """What a run without flags trains, read from the script's parser (no training): values
    the course accepts, for each optimizer. Skipped when the script has no ``build_parser``."""
    from omegaconf import OmegaConf

    from reproml.base.errors import ReproMLError
    from reproml.config import default_config, validate_config
    from reproml.parts import build_part

    cases = [["adam", ["--out", "o"]], ["sgd", ["--optimizer", "sgd", "--out", "o"]]]
    try:
        done = subprocess.run(
            [sys.executable, "-c", DEFAULTS_PROBE, str(script), DEFAULTS_MARK, json.dumps(cases)],
            capture_output=True, text=True, timeout=120, cwd=tmp,
            env={**os.environ, **env, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return
    marked = [line for line in done.stdout.splitlines() if line.startswith(DEFAULTS_MARK)]
    if done.returncode != 0 or not marked:
        return  # no build_parser to ask: the runs below test the script as a program
    found = json.loads(marked[-1][len(DEFAULTS_MARK) :])
    shown = f"python {script.name} --out runs/a"
    for optimizer, args in found.items():
        command = shown if optimizer == "adam" else f"{shown} --optimizer sgd"
        wanted = ["model", "optimizer", "lr", "momentum", "epochs", "seed", "quick", "out"]
        wanted += ["batch_size"] if batch else []
        missing = [key for key in wanted if key not in args]
        expect(
            not missing,
            f"the script's parser has no {', '.join(missing)}.",
            "each flag's name gives the attribute argparse sets (--batch-size: batch_size).",
        )
        expect(
            args["quick"] is False,
            f"without --quick, the script's parser sets quick={args['quick']!r}.",
            "a switch is off unless it is given: argparse has an action for that.",
        )
        if batch:
            course = default_config()["trainer"]["batch_size"]
            expect(
                args["batch_size"] == course and type(args["batch_size"]) is int,
                f"without --batch-size the script trains with a batch size of "
                f"{args['batch_size']!r}, not the course's default {course}.",
                "the flag's default is the value the course's configuration has, so that a "
                "run without the flag is the run it always was.",
            )
        try:
            config = OmegaConf.to_container(validate_config(_config(args)))
            build_part(config["model"], "model", _partial_=True)
            build_part(config["optimizer"], "optimizer")
        except (ReproMLError, TypeError, ValueError, KeyError) as error:
            raise CheckFailed(
                f"`{command}` would train with the parser's defaults (model={args['model']!r}, "
                f"optimizer={args['optimizer']!r}, lr={args['lr']!r}, momentum="
                f"{args['momentum']!r}, epochs={args['epochs']!r}, seed={args['seed']!r}), "
                f"which the course's training refuses: {str(error)[:300]}",
                "a flag's default is used whenever the flag is not given: it must be a value "
                "the training accepts (argparse does not check defaults against choices or "
                "types).",
            ) from None


def _check_run(
    script: Path, args: dict[str, Any], out: Path, data_root: Path, env: dict[str, str], tmp: Path
) -> None:
    """One training: exit 0, every argument saved with its type, the metrics of the course's
    training on the configuration the flags describe."""
    from reproml.training import train

    flags = _flags(args, out)
    shown = command_line(script, flags)
    started = time.perf_counter()
    expected = train(_config(args, data_root)).metrics
    seconds = time.perf_counter() - started
    done = run_program(script, flags, cwd=tmp, what=shown, env=env, expected_seconds=seconds)
    expect(
        done.returncode == 0,
        f"`{shown}` failed (exit code {done.returncode}): {error_summary(done.stderr, script)}",
        "run the same command in a terminal and read the whole error.",
    )
    saved = read_json_object(out / "args.json", "the arguments of the run")
    for key, value in args.items():
        got = saved.get(key, "nothing")
        expect(
            got == value and type(got) is type(value),
            f"after `{shown}`, args.json says {key}={got!r}, not {value!r}.",
            "save every parsed argument (those of other optimizers too), with the type "
            "argparse gave it.",
        )
    expect(
        isinstance(saved.get("out"), str) and Path(saved["out"]).resolve() == out.resolve(),
        f"after `{shown}`, args.json says out={saved.get('out', 'nothing')!r}.",
        "save every parsed argument, --out included (json.dumps writes a Path with default=str).",
    )
    metrics = read_json_object(out / "metrics.json", "the metrics of the run")
    missing = [name for name in expected if name not in metrics]
    expect(
        not missing,
        f"metrics.json has no {', '.join(map(repr, missing))}: {str(metrics)[:200]}.",
        "save all the metrics the training returns.",
    )
    expect_same_metrics(
        metrics,
        expected,
        f"`{shown}` did not train what its flags say",
        "each flag must reach the configuration that is trained (a flag parsed but not passed "
        "on changes nothing; --quick chooses the course's quick configuration), and only SGD "
        "takes a momentum.",
    )
