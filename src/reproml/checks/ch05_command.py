"""Chapter 05's check of the papermill command (5.2): each value must arrive with its type."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.checks.ch05_papermill import _small_notebook


def _values_notebook(path: Path, record: Path) -> None:
    """Writes each parameter's value and type to ``record``, as JSON."""
    write = (
        "import json\n"
        f"values = {{'name': name, 'count': count, 'rate': rate, 'flag': flag, 'label': label}}\n"
        f"open({str(record)!r}, 'w').write(json.dumps({{k: [v, type(v).__name__] "
        "for k, v in values.items()}))"
    )
    _small_notebook(path, 'name = "x"\ncount = 0\nrate = 0.0\nflag = False\nlabel = "none"', write)


@exercise("5.2", "the papermill command line", points=1)
def exercise_5_2(papermill_command: Any) -> None:
    """papermill INPUT OUTPUT -p NAME VALUE (-p converts values that look like numbers or
    True/False/None), -r NAME VALUE (kept as text), or -y with YAML; each word of the command is
    one item of the list (subprocess.run's form), str() the values."""
    rng = random.Random()
    values = {
        "name": rng.choice(["mlp", "cnn", "logreg"]),
        "count": rng.randint(2, 500),
        "rate": rng.choice([0.5, 0.03, 0.001, 2.5]),
        "flag": True,
        "label": str(rng.randint(1990, 2030)),  # text that looks like a number
    }
    values = dict(rng.sample(list(values.items()), len(values)))
    with tempfile.TemporaryDirectory() as tmp:
        source, output, record = Path(tmp, "in.ipynb"), Path(tmp, "out.ipynb"), Path(tmp, "v.json")
        _values_notebook(source, record)
        from reproml.course.notebooks import kernel_environment

        command = call(papermill_command, source, output, values, what="papermill_command(...)")
        expect(
            isinstance(command, list | tuple) and all(isinstance(w, str) for w in command),
            f"papermill_command returned {type(command).__name__}, not a list of strings.",
            "one item per word, as subprocess.run takes it; str() each value.",
        )
        expect(
            bool(command) and Path(command[0]).name.startswith(("papermill", "python")),
            f"the command starts with {command[:1]}, not with papermill.",
        )
        env = kernel_environment(quick=True)  # this Python's papermill first on the PATH
        try:
            done = subprocess.run(
                list(command), cwd=tmp, env=env, capture_output=True, text=True, timeout=180
            )
        except FileNotFoundError:
            raise CheckFailed(f"there is no program {command[0]!r} to run.") from None
        except subprocess.TimeoutExpired:
            raise CheckFailed("the command ran for 3 minutes without ending.") from None
        last = (done.stderr.strip().splitlines() or [""])[-1]
        expect(
            done.returncode == 0,
            f"the command failed (exit {done.returncode}): {last}",
            "the input notebook, then the output notebook, then the parameters.",
        )
        expect(output.is_file(), "the command wrote no output notebook where it was asked to.")
        expect(record.is_file(), "the notebook did not run (it wrote nothing).")
        arrived = json.loads(record.read_text())
    for name, value in values.items():
        got, got_type = arrived[name]
        expect(
            got == value and got_type == type(value).__name__,
            f"`{name}` should arrive as {type(value).__name__} {value!r}, it arrived as "
            f"{got_type} {got!r}.",
            "-p turns text that looks like a number into a number; -r keeps it as text."
            if name == "label"
            else "give each parameter its own -p NAME VALUE.",
        )
