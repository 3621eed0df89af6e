"""Which expressions of a check module make the messages it prints (``message_sites``).

The problem and hint of each ``expect`` and ``CheckFailed``, the ``what`` of each ``call``; the
texts assigned to a name such a message shows as a field; the texts of the module's tables,
filled in later by ``str.format``.
"""

from __future__ import annotations

import ast

MESSAGE_CALLS = {"expect": 1, "CheckFailed": 0}  # the index of the first message argument


def assignments(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain name of the module, in any function."""
    names: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            names.setdefault(target.id, []).append(value)
    return names


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
