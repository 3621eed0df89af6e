"""Which expressions of a check module make the messages it prints (``message_sites``).

The problem and hint of each ``expect`` and ``CheckFailed``, the ``what`` of each ``call``; the
texts assigned to a name such a message shows as a field; the texts of the module's tables,
filled in later by ``str.format``; and the *labels*, texts a check computes and hands to a
helper before they reach a message (``f"labels with no {named(absent)}"``), which only their
words give away.
"""

from __future__ import annotations

import ast
import re

MESSAGE_CALLS = {"expect": 1, "CheckFailed": 0}  # the index of the first message argument
SAID = {"say", "say_in", "exercise"}  # their texts are catalog entries of their own


def assignments(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain name of the module, in any function."""
    names: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):  # a parameter may be given anything
            for argument in [*node.posonlyargs, *node.args, *node.kwonlyargs]:
                names.setdefault(argument.arg, []).append(ast.Constant(None))
        if isinstance(node, ast.For | ast.comprehension) and isinstance(
            node.iter, ast.Tuple | ast.List
        ):
            _loop_values(node.target, node.iter.elts, names)  # for where, n in (("a", 1), ...)
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            names.setdefault(target.id, []).append(value)
    return names


def _loop_values(target: ast.expr, rows: list[ast.expr], names: dict) -> None:
    for row in rows:
        if isinstance(target, ast.Name):
            names.setdefault(target.id, []).append(row)
        elif isinstance(target, ast.Tuple) and isinstance(row, ast.Tuple | ast.List):
            for name, value in zip(target.elts, row.elts, strict=False):
                _loop_values(name, [value], names)


def message_expressions(tree: ast.Module) -> list[ast.expr]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        if name in MESSAGE_CALLS:
            found += node.args[MESSAGE_CALLS[name] :]
            found += [k.value for k in node.keywords if k.arg in ("problem", "hint")]
        elif name == "call":
            found += [k.value for k in node.keywords if k.arg == "what"]
    return found


def template_constants(tree: ast.Module) -> list[ast.expr]:
    """Texts kept in a module's tables and filled in later (``PROBES``'s "got {got}"), which no
    expression names directly: each string with words in a module-level tuple or list."""
    found = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(
            statement.value, ast.Tuple | ast.List | ast.Dict
        ):
            for node in ast.walk(statement.value):
                if isinstance(node.value if isinstance(node, ast.Constant) else None, str):
                    found += [node] if len(node.value.split()) >= 3 else []
                elif isinstance(node, ast.JoinedStr):
                    found.append(node)
    return found


def named_fields(expressions: list[ast.expr], names: dict[str, list[ast.expr]]) -> list[ast.expr]:
    """The texts assigned to a name a message shows as a field (``{name}``, where ``name =
    f"the child run of {parameters}"``): sites of their own, which the field's value matches."""
    found = []
    for expression in expressions:
        for node in ast.walk(expression):
            if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name):
                found += [
                    value
                    for value in names.get(node.value.id, [])
                    if isinstance(value, ast.Constant | ast.JoinedStr | ast.IfExp | ast.BinOp)
                ]
    return found


CODE = re.compile(  # texts with words that are code or data, not prose a student reads
    r"\n|\w=\w|\s=\s|;|^\s*[#@]|\\|\{\"|__\w+__|\bSELECT\b|YOUR CODE HERE|most recent"
)


def named_texts(value: ast.FormattedValue, names: dict[str, list[ast.expr]]) -> bool:
    """Whether a field is a name only ever given texts (``for label, names in (("missing",
    ...), ...)``): its texts are then pieces, not a wildcard."""
    given = names.get(value.value.id, []) if isinstance(value.value, ast.Name) else []
    return (
        value.conversion == -1
        and value.format_spec is None
        and bool(given)
        and all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in given)
    )


def label_strings(
    tree: ast.Module, used: list[ast.expr], names: dict[str, list[ast.expr]]
) -> list[ast.expr]:
    """The module's other texts with words: every string and f-string that is no docstring,
    no part of a message expression already read (``used``) and reads as prose (two words or
    more, no code); a field of a message whose value is one of them is translated by it."""
    taken = {id(n) for expression in used for n in ast.walk(expression)}
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                taken.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            taken |= {id(value) for value in node.values}
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "attr", "") == "__doc__":
            taken.add(id(node.value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in SAID:
            taken |= {id(argument) for argument in node.args}  # in the catalog as they are
    found = []
    for node in ast.walk(tree):
        if id(node) in taken:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if "{" in text:  # a template, filled in by say or a table's str.format
                continue
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        words = len(re.findall(r"[A-Za-z]{2,}", text))
        if isinstance(node, ast.JoinedStr) and (
            words
            or re.fullmatch(r"an? \{\}", text)
            or any(named_texts(v, names) for v in node.values if isinstance(v, ast.FormattedValue))
        ):
            words = 2  # f"{name} differs", f"a {type(model).__name__}": a field is the rest
        if words >= 2 and " " in text and not CODE.search(text):
            found.append(node)
    return found
