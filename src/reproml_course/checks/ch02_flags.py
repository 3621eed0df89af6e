"""What chapter 02's script must say about its flags without training: ``--help`` lists
every flag, each with a help text; good values at the edges are accepted; bad ones (zero and
negative learning rates and epochs, text, unknown choices, no ``--out``) end in argparse's
usage error: exit code 2, a usage line and an error line that names the flag, nothing
written."""

from __future__ import annotations

import re
from pathlib import Path

from reproml_course.checks.base import expect
from reproml_course.checks.scripts import command_line, error_summary, last_lines, run_program

# Valid at the edges: each must be accepted (with --help, argparse stops once they are parsed).
GOOD_VALUES = ["--model", "cnn", "--optimizer", "sgd", "--lr", "0.5", "--momentum", "0",
               "--epochs", "1", "--seed", "0"]  # fmt: skip


def _check_help(script: Path, flags: tuple[str, ...], env: dict[str, str], tmp: Path) -> None:
    done = run_program(script, ["--help"], cwd=tmp, env=env)
    expect(
        done.returncode == 0,
        f"`python {script.name} --help` failed (exit code {done.returncode}): "
        f"{error_summary(done.stderr, script)}",
    )
    entries = _help_entries(done.stdout)
    missing = [flag for flag in flags if flag not in entries]
    expect(
        not missing,
        f"--help does not list {', '.join(missing)}.",
        "every option of the script is a flag, with a help text.",
    )
    silent = [flag for flag in flags if not entries[flag]]
    expect(
        not silent,
        f"--help lists {', '.join(silent)} with no help text.",
        "give each flag a help text: --help is the script's documentation.",
    )


def _help_entries(text: str) -> dict[str, bool]:
    """{flag: whether a help text follows it} for each option argparse's help lists."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    entries: dict[str, bool] = {}
    for i in range(start, len(lines)):
        line = lines[i]
        stripped = line.strip()
        if not stripped.startswith("-"):
            continue
        invocation, *rest = re.split(r"\s{2,}", stripped, maxsplit=1)
        indent = len(line) - len(line.lstrip())
        following = lines[i + 1] if i + 1 < len(lines) else ""
        below = (
            following.strip() != ""
            and len(following) - len(following.lstrip()) > indent
            and not following.strip().startswith("-")
        )
        described = bool(rest and rest[0].strip()) or below
        for part in invocation.split(", "):
            flag = part.split(" ")[0]
            if flag.startswith("-"):
                entries[flag] = described
    return entries


def _check_good_values(script: Path, extra: list[str], env: dict[str, str], tmp: Path) -> None:
    args = [*GOOD_VALUES, *extra]
    done = run_program(script, [*args, "--help"], cwd=tmp, env=env)
    expect(
        done.returncode == 0,
        f"`{command_line(script, args)}` is refused, but each value is valid: "
        f"{error_summary(done.stderr or done.stdout, script)}",
        "a learning rate of 0.5, 1 epoch, seed 0 and momentum 0 (plain SGD) are all allowed, "
        "and so is each model the exercise lists: refuse only what the training cannot use.",
    )


def _check_bad_values(script: Path, bad: list[list], env: dict[str, str], tmp: Path) -> None:
    for i, (flag, value) in enumerate(bad):
        folder = tmp / f"bad-{i}"
        folder.mkdir(parents=True)
        out = folder / "out"
        args = [flag, value] if value is not None else []
        full = [*args, "--quick"] + (["--out", str(out)] if value is not None else [])
        shown = command_line(script, full if value is None else args)
        done = run_program(script, full, cwd=folder, env=env)
        lines = done.stderr.strip().splitlines()
        refused = "a missing --out" if value is None else f"{flag} {value}"
        expect(
            done.returncode == 2 and "Traceback" not in done.stderr,
            f"`{shown}` should stop at once with argparse's usage error (exit code 2), but it "
            f"exited with {done.returncode}"
            + (f": {error_summary(done.stderr, script)}" if done.returncode else "."),
            "let the parser refuse what the script cannot use: a flag's type that raises "
            "argparse.ArgumentTypeError, a closed list of values, a flag the script cannot run "
            "without; argparse then prints the usage and exits with code 2.",
        )
        expect(
            len(lines) == 2 and lines[0].startswith("usage:") and "error:" in lines[1],
            f"`{shown}` printed {len(lines)} lines on stderr; argparse's answer is two: the "
            f"usage line and the error. Got: {last_lines(done.stderr, 4)}",
            "let argparse report the problem, and print nothing else.",
        )
        expect(
            flag in lines[1],
            f"`{shown}` was refused, but the error does not name {flag}: {lines[1]}",
            f"the error for {refused} must be about {flag}: check each value in its own "
            "flag's `type`.",
        )
        expect(
            not any(folder.iterdir()),
            f"`{shown}` was refused, but wrote {', '.join(p.name for p in folder.iterdir())} "
            "first.",
            "parse (and so check) every argument before writing anything.",
        )
