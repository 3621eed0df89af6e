"""Chapter 02: argparse."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """The namespace, or the exit code argparse chose (its messages are swallowed)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@exercise("2.1", "add a --val-fraction flag", points=2)
def exercise_2_1(build_parser: Any) -> None:
    parser = call(build_parser, what="build_parser()")
    expect(
        isinstance(parser, argparse.ArgumentParser),
        f"build_parser() should return an ArgumentParser, got {type(parser).__name__}.",
    )
    default = _parse(parser, [])
    expect(
        isinstance(default, argparse.Namespace) and hasattr(default, "val_fraction"),
        "parsing no arguments gives no `val_fraction` attribute.",
        "add_argument('--val-fraction', ...) becomes args.val_fraction.",
    )
    expect(
        default.val_fraction == 0.1,
        f"the default should be 0.1, got {default.val_fraction!r}.",
    )
    value = round(random.uniform(0.05, 0.5), 3)
    parsed = _parse(parser, ["--val-fraction", str(value)])
    expect(
        isinstance(parsed, argparse.Namespace) and parsed.val_fraction == value,
        f"--val-fraction {value} should give the float {value}, got "
        f"{getattr(parsed, 'val_fraction', parsed)!r}.",
        "give add_argument a type that converts the text to a float.",
    )
    for bad in ("0", "1", "-0.2", "1.5", "a lot"):
        code = _parse(parser, ["--val-fraction", bad])
        if code != 2:
            raise CheckFailed(
                f"--val-fraction {bad!r} was accepted"
                + (f" as {code.val_fraction!r}" if isinstance(code, argparse.Namespace) else "")
                + ", but a fraction must be strictly between 0 and 1.",
                "write a type function that raises argparse.ArgumentTypeError for values out of "
                "range; argparse then prints the usage line and exits with code 2.",
            )
    expect(
        "--val-fraction" in parser.format_help(),
        "--help does not list --val-fraction.",
    )
    expect(
        _parse(parser, ["--model", "mlp", "--lr", "0.05"]) != 2,
        "the flags that were there before (--model, --lr) no longer parse.",
        "start from reproml's build_parser() and add to it.",
    )


@exercise("2.2", "save the run's configuration and load it back", points=2)
def exercise_2_2(save_args: Any, load_args: Any) -> None:
    rng = random.Random()
    args = argparse.Namespace(
        model=rng.choice(["logreg", "mlp", "cnn"]),
        lr=rng.choice([0.1, 0.01, 0.001]),
        hidden_sizes=[rng.choice([64, 128, 256]) for _ in range(rng.randint(1, 3))],
        momentum=rng.choice([None, 0.9]),
        quick=rng.choice([True, False]),
        seed=rng.randint(0, 10_000),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run" / "args.json"
        call(save_args, args, path, what="save_args(args, path)")
        expect(
            path.is_file(),
            f"save_args did not create {path}.",
            "create the parent folder, then write the file at exactly the path given.",
        )
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            raise CheckFailed(
                "the saved file is not JSON.", "json.dump(vars(args), file) writes it."
            ) from None
        expect(
            saved == vars(args),
            f"the file holds {saved}, expected every argument: {vars(args)}.",
            "vars(args) is the namespace as a dict.",
        )
        loaded = call(load_args, path, what="load_args(path)")
        expect(
            isinstance(loaded, argparse.Namespace),
            f"load_args should return an argparse.Namespace, got {type(loaded).__name__}.",
            "argparse.Namespace(**a_dict) builds one.",
        )
        expect(
            loaded == args,
            f"load_args gave {loaded}, expected {args}.",
        )
