"""Mutants of a YAML solution cell (a Hydra config written with ``%%writefile``), for
``mutation``: each line of the solution dropped, its value changed (a boolean flipped, a number
off, a list shortened, an interpolation or a string replaced), an ``override`` removed."""

from __future__ import annotations

import re
from collections.abc import Iterator

YAML_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?[\w/@.]+:\s*)(\S.*?)(\s*(?:#.*)?)$")


def _yaml_mutants(lines: list[str], region: set[int]) -> Iterator[str]:
    for number in sorted(n - 1 for n in region):
        line = lines[number]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield "\n".join(lines[:number] + lines[number + 1 :])
        for changed in _yaml_line_mutants(line):
            yield "\n".join([*lines[:number], changed, *lines[number + 1 :]])


def _yaml_line_mutants(line: str) -> Iterator[str]:
    if "override " in line:
        yield line.replace("override ", "", 1)
    match = YAML_KEY_VALUE.match(line)
    if not match:
        return
    head, value, tail = match.groups()
    for other in _other_values(value):
        yield head + other + tail


def _other_values(value: str) -> Iterator[str]:
    if value in ("true", "false"):
        yield "false" if value == "true" else "true"
    elif re.fullmatch(r"-?\d+", value):
        yield str(int(value) + 1)
    elif re.fullmatch(r"-?[\d.]+(e-?\d+)?", value):
        yield repr(float(value) * 10)
    elif value.startswith("[") and value.endswith("]"):
        items = [item.strip() for item in value[1:-1].split(",") if item.strip()]
        if items:
            yield "[" + ", ".join(items[:-1]) + "]"
            yield items[0]
    elif value.startswith("${"):
        yield "null"
    else:
        yield "XX" + value + "XX"
