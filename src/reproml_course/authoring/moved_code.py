"""Whether a check runs the same code though whole definitions moved between check modules.

A mutant score keeps the digest of the check's module, so splitting a long module changes the
digest of every check in it, though each check runs exactly the statements it ran. This proves
it: from the check's function, follow each name a definition uses to the top-level statement
that binds it, in its own module or through an import into another check module, in both trees.
The two graphs must match statement for statement (the same syntax tree: comments and layout
aside) and every other import must name the same thing. What the proof cannot follow fails it:
a top-level statement that is not a definition, an assignment to names (``A = ...``,
``A, B = ...``) or an import, a name bound twice, a relative import.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable

PACKAGE = "reproml_course.checks"

Read = Callable[[str], str | None]  # a module's dotted name -> its source in a tree, or None
Binding = ast.stmt | tuple[str, ...]  # a definition, or ("import", module, name) / ("module", m)


def module_bindings(source: str) -> dict[str, Binding] | None:
    """What each top-level name of a module is bound to; None when it does something else too."""
    bindings: dict[str, Binding] = {}

    def bind(name: str, value: Binding) -> bool:
        if name in bindings:
            return False
        bindings[name] = value
        return True

    for index, statement in enumerate(ast.parse(source).body):
        match statement:
            case ast.Expr(value=ast.Constant(value=str())) if index == 0:
                continue  # the docstring
            case ast.ImportFrom(module="__future__"):
                continue
            case ast.ImportFrom(level=0, module=str(module)):
                pairs = [(a.asname or a.name, ("import", module, a.name)) for a in statement.names]
            case ast.Import():
                pairs = [
                    (a.asname, ("module", a.name)) if a.asname else
                    (a.name.split(".")[0], ("module", a.name.split(".")[0]))
                    for a in statement.names
                ]  # fmt: skip
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef():
                pairs = [(statement.name, statement)]
            case ast.Assign(targets=targets) if all(_plain_names(t) for t in targets):
                pairs = [(n.id, statement) for t in targets for n in _plain_names(t)]
            case ast.AnnAssign(target=ast.Name(id=name)):
                pairs = [(name, statement)]
            case _:
                return None
        if not all(bind(name, value) for name, value in pairs):
            return None
    return bindings


def definition_graph(read: Read, module: str, name: str) -> list | None:
    """The statements ``module.name`` depends on, in the order they are first met, each with
    where its names lead; None when the proof cannot follow them."""
    indexes: dict[str, dict[str, Binding] | None] = {}

    def bindings_of(module: str) -> dict[str, Binding] | None:
        if module not in indexes:
            source = read(module)
            indexes[module] = None if source is None else module_bindings(source)
        return indexes[module]

    def resolve(module: str, name: str) -> tuple | None:
        """A definition ("def", module, name) or what an import outside the checks names."""
        for _ in range(20):  # an import chain, followed through the check modules
            bindings = bindings_of(module)
            if bindings is None or name not in bindings:
                return None
            binding = bindings[name]
            if isinstance(binding, ast.stmt):
                return ("def", module, name)
            if binding[0] == "import" and _is_check_module(binding[1]):
                module, name = binding[1], binding[2]
                continue
            return binding
        return None

    order: dict[tuple, int] = {}
    pending: deque[tuple] = deque()

    def token(reference: tuple) -> tuple:
        if reference[0] != "def":
            return reference
        if reference not in order:
            order[reference] = len(order)
            pending.append(reference)
        return ("def", order[reference])

    start = resolve(module, name)
    if start is None or start[0] != "def":
        return None
    token(start)
    graph = []
    while pending:
        _, module, name = pending.popleft()
        bindings = bindings_of(module)
        statement = bindings[name]
        used = sorted({n.id for n in ast.walk(statement) if isinstance(n, ast.Name)})
        edges = []
        for used_name in used:
            if used_name not in bindings:
                continue  # a local, a parameter or a builtin
            reference = resolve(module, used_name)
            if reference is None:
                return None
            edges.append((used_name, token(reference)))
        graph.append((code_of(statement), edges))
    return graph


def runs_the_same_code(old: Read, old_module: str, new: Read, new_module: str, name: str) -> bool:
    """Whether the function ``name`` depends on the same statements in both trees."""
    before = definition_graph(old, old_module, name)
    return before is not None and before == definition_graph(new, new_module, name)


def _plain_names(target: ast.expr) -> list[ast.Name]:
    """The names a target binds, ``A`` or ``A, B``; none when it binds anything else."""
    names = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
    return names if all(isinstance(n, ast.Name) for n in names) else []


def code_of(node: ast.AST) -> str:
    """``node``'s syntax tree, with each run of import statements (and the names each one
    imports) in a fixed order: what the import sorter changes when a module's name changes."""
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if isinstance(body, list):
            inner.body = _sorted_imports(body)
    return ast.dump(node)


def _sorted_imports(body: list[ast.stmt]) -> list[ast.stmt]:
    ordered: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for statement in [*body, None]:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            statement.names.sort(key=lambda alias: (alias.name, alias.asname or ""))
            run.append(statement)
            continue
        ordered += sorted(run, key=ast.dump)
        run = []
        if statement is not None:
            ordered.append(statement)
    return ordered


def _is_check_module(module: str) -> bool:
    return module.startswith(PACKAGE + ".")
