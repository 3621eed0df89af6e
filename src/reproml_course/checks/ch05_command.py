"""Chapter 05's check of the papermill command (5.2): each value must arrive with its type.

One execution (a kernel costs seconds) of a small notebook of the check's own, with a value of
every kind at once, drawn afresh each time, the edges always among them: falsy values (``0``,
``0.0``, ``False``, ``""``, ``None``, ``[]``); text that looks like a number (an int, a float, a
negative one), like None or a bool, or holds a space; a negative number; a float whose text has
no dot (``1e-05``, which YAML 1.1 reads as text); lists. Every parameter's default in that
notebook is a text no drawn value equals, so a value that was not passed shows.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch05_papermill import _small_notebook

UNSET = "<the notebook's default>"  # what a parameter holds when the command did not pass it
TINY_FLOATS = (1e-05, 2e-05, 5e-06, 3e-07, 1e-08)  # str() and JSON write them without a dot


def _draw(rng: random.Random) -> dict[str, Any]:
    """One value of every kind; the names are the notebook's parameters."""
    values = {
        "model": rng.choice(["mlp", "cnn", "logreg"]),
        "year": str(rng.randint(1990, 2030)),  # text that looks like a number
        "version": rng.choice(["1.5", "2.0", "0.10", "-3"]),  # ... like a float, or negative
        "answer": rng.choice(["None", "True", "False"]),  # ... like None or a bool
        "title": f"{rng.choice(['first', 'best', 'last'])} run {rng.randint(2, 99)}",  # a space
        "note": "",
        "epochs": rng.randint(2, 500),
        "offset": 0,
        "shift": -rng.randint(1, 50),
        "lr": rng.choice(TINY_FLOATS),
        "momentum": 0.0,
        "dropout": rng.choice([0.25, 0.5, 0.125, 0.75]),
        "quick": True,
        "resume": False,
        "checkpoint": None,
        "sizes": [rng.choice([512, 256, 128]), rng.choice([64, 32, 16])],
        "rates": [rng.choice([0.5, 0.1, 0.03]), rng.choice(TINY_FLOATS)],
        "skip": [],
    }
    return values  # compared in this order, so that the first wrong value reads the same


def _values_notebook(path: Path, record: Path, names: list[str]) -> None:
    """Writes each parameter's repr and type to ``record``, as JSON."""
    defaults = "\n".join(f"{name} = {UNSET!r}" for name in names)
    write = (
        "import json\n"
        f"_names = {names!r}\n"
        f"with open({str(record)!r}, 'w') as _file:\n"
        "    json.dump({n: [repr(globals()[n]), type(globals()[n]).__name__] for n in _names},"
        " _file)\n"
    )
    _small_notebook(path, defaults, write)


@exercise("5.2", "the papermill command line", points=1, budget=90)  # one kernel: 3-10 s
def exercise_5_2(papermill_command: Any) -> None:
    """papermill INPUT OUTPUT -p NAME VALUE (-p converts values that look like numbers or
    True/False/None), -r NAME VALUE (kept as text), -y YAML (the way to pass a list;
    yaml.safe_dump writes YAML that papermill's PyYAML reads back); each word of the command is
    one item of the list (subprocess.run's form), str() the values."""
    rng = random.Random()
    values = _draw(rng)
    with tempfile.TemporaryDirectory() as tmp:
        source, output, record = Path(tmp, "in.ipynb"), Path(tmp, "out.ipynb"), Path(tmp, "v.json")
        _values_notebook(source, record, list(values))
        shuffled = rng.sample(list(values.items()), len(values))
        given = {k: list(v) if isinstance(v, list) else v for k, v in shuffled}
        command = call(papermill_command, source, output, given, what="papermill_command(...)")
        expect(
            isinstance(command, list | tuple) and all(isinstance(w, str) for w in command),
            f"papermill_command returned {_kind(command)}, not a list of strings.",
            "one item per word, as subprocess.run takes it; str() each value.",
        )
        expect(
            bool(command) and Path(command[0]).name.startswith(("papermill", "python")),
            f"the command starts with {list(command[:1])}, not with papermill.",
        )
        arrived = _run(list(command), Path(tmp), output, record)
    for name, value in values.items():
        _compare(name, value, arrived[name], command)


def _kind(command: Any) -> str:
    if isinstance(command, list | tuple):
        odd = next((w for w in command if not isinstance(w, str)), None)
        return f"a list holding {type(odd).__name__} {odd!r}"
    return f"a {type(command).__name__}"


def _run(command: list[str], tmp: Path, output: Path, record: Path) -> dict:
    from reproml_course.base.notebooks import kernel_environment

    env = kernel_environment(quick=True)  # this Python's papermill first on the PATH
    try:
        done = subprocess.run(
            command, cwd=tmp, env=env, capture_output=True, text=True, timeout=180
        )
    except FileNotFoundError:
        raise CheckFailed(f"there is no program {command[0]!r} to run.") from None
    except subprocess.TimeoutExpired:
        raise CheckFailed("the command ran for 3 minutes without ending.") from None
    last = (done.stderr.strip().splitlines() or [""])[-1]
    expect(
        done.returncode == 0,
        f"the command failed (exit {done.returncode}): {last}",
        "the input notebook, then the output notebook, then the parameters, each option and "
        "each of its values an item of its own.",
    )
    expect(output.is_file(), "the command wrote no output notebook where it was asked to.")
    expect(
        record.is_file(),
        "the command wrote the output notebook but ran none of its cells.",
        "papermill only prepares the notebook when asked to; let it execute.",
    )
    return json.loads(record.read_text())


def _compare(name: str, value: Any, arrived: list, command: list[str]) -> None:
    got, got_type = arrived
    want_type = type(value).__name__
    if got == repr(value) and got_type == want_type:
        return
    shown = f"{want_type} {value!r}"
    if got == repr(UNSET):
        raise CheckFailed(
            f"`{name}` (here {shown}) never reached the notebook: it kept its default.",
            "every parameter must be passed, whatever its value: 0, False, None, an empty text "
            "or an empty list are values too."
            if not value
            else "pass every parameter of the dict.",
        )
    problem = f"`{name}` should arrive as {shown}, it arrived as {got_type} {got}."
    uses_yaml = any(w in ("-y", "--parameters_yaml", "-b", "--parameters_base64") for w in command)
    if isinstance(value, str) and got_type == "str":
        hint = (
            "each item of the list reaches papermill as it is, no shell in between: no quotes "
            "are needed, and any you add arrive in the value."
        )
    elif isinstance(value, str):
        hint = "-p turns text that looks like a number (or True, None) into one; -r keeps text."
    elif isinstance(value, list) and got_type == "str" and not uses_yaml:
        hint = "-p and -r pass one number or one text; a list needs YAML."
    elif uses_yaml and _has_tiny_float(value) and "'" in got:
        hint = (
            "papermill reads -y with PyYAML, which follows YAML 1.1: there a number with an "
            "exponent needs a dot and a sign (1.0e-05), and `1e-05` is text. JSON is not quite "
            "YAML."
        )
    elif got_type == "str":
        hint = "-r keeps every value as text; -p converts numbers, True/False and None."
    else:
        hint = "each value's type must survive the command line."
    raise CheckFailed(problem, hint)


def _has_tiny_float(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(v, float) and "." not in str(v) for v in items)
