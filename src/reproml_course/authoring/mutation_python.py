"""Mutants of a solution cell's Python code (``mutation``): mutmut's operators (libcst),
and, added here, each statement dropped and a call's first two positional arguments swapped,
applied to the solution's lines only. IPython's magics and shell lines are set aside while
libcst parses the cell; what people read (messages, docstrings, annotations, ``help=`` and
the like) is never mutated, since a check cannot require one wording."""

from __future__ import annotations

import re
from collections.abc import Iterator

MAGIC_LINE = re.compile(r"^(\s*)([!%].*)$")
PLACEHOLDER = "pass  # reproml-magic-{}"
MESSAGE_CALLS = {"print", "display", "error", "warn", "warning", "info", "debug", "exit"}
# What people read (argparse's help, a progress bar, a run's name in the MLflow UI): a check
# cannot require one wording, so these arguments are neither changed nor dropped.
MESSAGE_KEYWORDS = {
    "help", "description", "epilog", "usage", "metavar", "desc", "progress_bar", "run_name",
}  # fmt: skip


def _python_mutants(body: str, region: set[int]) -> Iterator[str]:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider
    from mutmut.mutation.mutators import mutation_operators

    lines = body.split("\n")
    magics: dict[int, str] = {}
    for number, line in enumerate(lines):
        match = MAGIC_LINE.match(line)
        if match:
            magics[number] = match[2]
            lines[number] = match[1] + PLACEHOLDER.format(number)
    try:
        wrapper = MetadataWrapper(cst.parse_module("\n".join(lines)))
    except cst.ParserSyntaxError:
        return
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    module = wrapper.module

    def inside(node: cst.CSTNode) -> bool:
        where = positions.get(node)
        return where is not None and all(
            line in region for line in range(where.start.line, where.end.line + 1)
        )

    for node in positions:
        if not inside(node) or _left_alone(node, parents):
            continue
        for kind, operator in mutation_operators:
            if isinstance(node, kind):
                for mutated in operator(node):
                    if _wanted(node, mutated):
                        yield _restore(module.deep_replace(node, mutated).code, magics)
        if isinstance(node, cst.Call):
            positional = [i for i, a in enumerate(node.args) if a.keyword is None and not a.star]
            if len(positional) >= 2:  # two names swapped
                args = list(node.args)
                first, second = positional[:2]
                args[first] = node.args[first].with_changes(value=node.args[second].value)
                args[second] = node.args[second].with_changes(value=node.args[first].value)
                swapped = node.with_changes(args=args)
                yield _restore(module.deep_replace(node, swapped).code, magics)
        if isinstance(node, cst.SimpleStatementLine) and _droppable(node):
            dropped = node.with_changes(body=[cst.Pass()])
            yield _restore(module.deep_replace(node, dropped).code, magics)


def _restore(code: str, magics: dict[int, str]) -> str:
    lines = code.split("\n")
    for number, line in enumerate(lines):
        for original, magic in magics.items():
            if line.endswith(PLACEHOLDER.format(original)):
                lines[number] = line[: len(line) - len(PLACEHOLDER.format(original))] + magic
    return "\n".join(lines)


def _left_alone(node, parents) -> bool:
    """Docstrings, annotations and what is said to people are not the check's business."""
    import libcst as cst

    if isinstance(node, cst.Call) and _call_name(node) in MESSAGE_CALLS:
        return True
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, cst.Annotation | cst.Raise):
            return True
        if isinstance(parent, cst.Call) and _call_name(parent) in MESSAGE_CALLS:
            return True
        keyword = parent.keyword if isinstance(parent, cst.Arg) else None
        if keyword is not None and keyword.value in MESSAGE_KEYWORDS:
            return True
        if isinstance(parent, cst.Expr) and isinstance(child, cst.BaseString):
            return True  # a docstring, or a string standing alone
        if isinstance(parent, cst.SimpleStatementLine | cst.IndentedBlock):
            break
        child, parent = parent, parents.get(parent)
    return False


def _wanted(node, mutated) -> bool:
    """One mutant of each kind per place: a string replaced (not also its case changed); an
    argument dropped, or replaced by None where it is the only one; never an argument such as
    ``help=...``, which a person reads and nothing runs."""
    import libcst as cst

    if isinstance(node, cst.SimpleString) and isinstance(mutated, cst.SimpleString):
        return "XX" in mutated.value
    if not isinstance(node, cst.Call) or not isinstance(mutated, cst.Call):
        return True
    before = {a.keyword.value for a in node.args if a.keyword is not None}
    after = {a.keyword.value for a in mutated.args if a.keyword is not None}
    if before - after:
        return not (before - after) <= MESSAGE_KEYWORDS
    if len(mutated.args) == len(node.args):
        changed = [a for a, b in zip(node.args, mutated.args, strict=True) if a is not b]
        if any(a.keyword is not None and a.keyword.value in MESSAGE_KEYWORDS for a in changed):
            return False
        return not (changed and changed[0].keyword is None and len(node.args) > 1)
    return True


def _call_name(call) -> str:
    import libcst as cst

    function = call.func
    if isinstance(function, cst.Attribute):
        return function.attr.value
    return function.value if isinstance(function, cst.Name) else ""


def _droppable(line) -> bool:
    import libcst as cst

    for statement in line.body:
        if isinstance(statement, cst.Pass | cst.Import | cst.ImportFrom):
            return False
        if isinstance(statement, cst.Expr):
            value = statement.value
            if isinstance(value, cst.BaseString):
                return False
            if isinstance(value, cst.Call) and _call_name(value) in MESSAGE_CALLS:
                return False
    return True
