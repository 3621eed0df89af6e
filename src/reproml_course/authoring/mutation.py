"""Mutants of a solution cell: the plausible small mistakes a check must reject.

Python code is mutated with mutmut's operators (libcst): comparisons and booleans flipped,
numbers off by one, arguments dropped, strings and assignments replaced, operators swapped,
``in``/``is`` negated, and, added here, each statement dropped and a call's first two
positional arguments swapped (``mutation_python``). YAML cells (a Hydra config written with
``%%writefile``) get their own: a line dropped, a value changed, an ``override`` removed
(``mutation_yaml``). Only the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` are
mutated, since that is what the student writes.

Not mutated, because a check cannot and should not judge them: messages for people (strings
given to ``print``, to an exception, to argparse's ``help=``, a run's ``run_name=``, whether
papermill draws a ``progress_bar=``), docstrings, annotations and ``print`` calls themselves.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reproml_course.authoring.mutation_python import _python_mutants
from reproml_course.authoring.mutation_yaml import _yaml_mutants


@dataclass(frozen=True)
class Mutant:
    cell: int  # index of the notebook cell it changes
    key: str  # a stable name: "cell 3, line 12: `a < b` -> `a >= b`"
    source: str  # the whole cell, mutated


def solution_lines(lines: list[str]) -> set[int]:
    """1-based numbers of the lines strictly between each pair of markers."""
    inside, found = False, set()
    for number, line in enumerate(lines, start=1):
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            found.add(number)
    return found


def cell_mutants(cell_index: int, source: str) -> list[Mutant]:
    """Every mutant of one cell, each once (two operators that give one text count once)."""
    head, body, offset = _split_writefile(source)
    lines = body.split("\n")
    region = solution_lines(lines)
    if not region:
        return []
    target = head.split(maxsplit=1)[1].strip() if head else ""
    if target.endswith((".yaml", ".yml")):
        bodies = _yaml_mutants(lines, region)
    else:
        bodies = _python_mutants(body, region)
    found: dict[str, Mutant] = {}
    for mutated in bodies:
        if mutated == body or mutated in found:
            continue
        whole = head + mutated if head else mutated
        found[mutated] = Mutant(cell_index, _key(cell_index, body, mutated, offset), whole)
    return list(found.values())


def _split_writefile(source: str) -> tuple[str, str, int]:
    first, newline, rest = source.partition("\n")
    if first.startswith("%%writefile"):
        return first + newline, rest, 1
    return "", source, 0


def _key(cell: int, old: str, new: str, offset: int) -> str:
    old_lines, new_lines = old.split("\n"), new.split("\n")
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            before = " ".join(line.strip() for line in old_lines[i1:i2]) or "(nothing)"
            after = " ".join(line.strip() for line in new_lines[j1:j2]) or "(nothing)"
            return f"cell {cell}, line {i1 + 1 + offset}: `{before}` -> `{after}`"
    return f"cell {cell}: unchanged"
