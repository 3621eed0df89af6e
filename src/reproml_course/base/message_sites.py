"""Every text a check can print, read from the checks' own source, for their translations.

The checks write their messages in English as they always have (``expect(ok, f"...", "...")``),
so a translation never touches a check (whose mutant score would then have to be measured
again). Instead, this module reads the checks' syntax trees: each expression that makes a
message (the problem and hint of ``expect`` and ``CheckFailed``, the ``what`` of ``call``) becomes
a *site*, a regular expression with a group for each string literal (a *piece*, the unit a
translator translates, its f-string fields numbered ``{0}``, ``{1}``...) and a lazy wildcard for
each value computed at run time. ``messages`` matches a failure's English against the sites,
keeps the one that explains the most literal text and rebuilds it from the pieces'
translations, translating each field's value the same way (a ``what`` inside base's frame).
"""

from __future__ import annotations

import ast
import re
import string
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from reproml_course.base.message_sources import (
    assignments,
    label_strings,
    message_expressions,
    named_fields,
    named_texts,
    template_constants,
)

CHECKS_DIR = Path(__file__).resolve().parents[1] / "checks"  # read as text, never imported
MAX_INLINE = 3  # how deep a name is followed to its assignment


@dataclass(frozen=True)
class Piece:
    msgid: str  # the English, fields numbered: "the run's {0} has values at steps {1}"
    fields: tuple[str, ...]  # each field's expression, for the translator
    location: tuple[str, int]
    words: bool = True  # False for punctuation around fields (": {0}"): nothing to translate


@dataclass
class Node:
    kind: str  # piece, concat, alt, wild
    group: int = 0  # the regex group of a piece, an option or a wildcard
    piece: Piece | None = None
    children: list[Node] = field(default_factory=list)  # a piece's: its fields, in order


@dataclass(frozen=True)
class Site:
    pattern: re.Pattern[str]
    root: Node
    label: bool = False  # a text a check hands to a helper, found by its words alone


class _Builder:
    """Turns one message expression into a regex and the tree that rebuilds its match."""

    def __init__(self, module: str, names: dict[str, list[ast.expr]]) -> None:
        self.module, self.names, self.groups = module, names, 0

    def _group(self) -> int:
        self.groups += 1
        return self.groups

    def build(self, node: ast.expr, depth: int = 0) -> tuple[str, Node]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self._piece(node, [(node.value, None)])
        if isinstance(node, ast.JoinedStr):
            parts = [
                (v.value, None) if isinstance(v, ast.Constant) else ("", v) for v in node.values
            ]
            return self._piece(node, parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, left_node = self.build(node.left, depth)
            right, right_node = self.build(node.right, depth)
            return left + right, Node("concat", children=[left_node, right_node])
        if isinstance(node, ast.IfExp):
            return self._alternatives([node.body, node.orelse], depth)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self._alternatives(node.values, depth)
        if isinstance(node, ast.Name) and depth < MAX_INLINE and node.id in self.names:
            return self._alternatives(self.names[node.id], depth + 1)
        if _is_format_call(node):
            template = node.func.value
            if isinstance(template, ast.Name) and len(self.names.get(template.id, [])) == 1:
                template = self.names[template.id][0]
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                return self._piece(node, _format_parts(template.value))
        group = self._group()
        return "(.*?)", Node("wild", group)

    def table_template(self, node: ast.Constant | ast.JoinedStr) -> tuple[str, Node]:
        """A text kept in a table and filled in later by ``str.format``: its literal parts'
        ``{got}`` are fields too."""
        values = node.values if isinstance(node, ast.JoinedStr) else [node]
        parts: list[tuple[str, object]] = []
        for value in values:
            if isinstance(value, ast.Constant):
                parts += _format_parts(value.value)
            else:
                parts.append(("", value))
        return self._piece(node, parts)

    def _alternatives(self, options: list[ast.expr], depth: int) -> tuple[str, Node]:
        """The options with the most fixed text come first: a regex takes the first option
        that matches, and ``f"{found}."`` matches any text that ends with a dot."""

        def fixed(option: ast.expr) -> int:  # measured on a builder of its own: groups are
            return fixed_length(_Builder(self.module, self.names).build(option, depth)[1])

        patterns, children = [], []  # numbered in the order they appear in the pattern
        for option in sorted(options, key=lambda option: -fixed(option)):
            group = self._group()
            pattern, child = self.build(option, depth)
            patterns.append(f"({pattern})")
            children.append(Node("concat", group, children=[child]))
        return "(?:" + "|".join(patterns) + ")", Node("alt", children=children)

    def _piece(self, node: ast.expr, parts: list[tuple[str, object]]) -> tuple[str, Node]:
        """``parts``: (literal, None), or ("", a field: an f-string's value or a format
        field's name), in order. A field that is itself a choice of texts (``{'s' if n > 1
        else ''}``) is built as one; any other is a wildcard."""
        group = self._group()
        pattern, msgid, fields, field_nodes = "", "", [], []
        for literal, value in parts:
            if value is None:
                pattern += re.escape(literal)
                msgid += literal.replace("{", "{{").replace("}", "}}")
                continue
            if isinstance(value, ast.FormattedValue) and (
                _is_text_choice(value) or named_texts(value, self.names)
            ):
                inner, child = self.build(value.value)
                pattern += inner
            else:
                pattern += "(.*?)"
                child = Node("wild", self._group())
            field_nodes.append(child)
            msgid += f"{{{len(fields)}}}"
            fields.append(ast.unparse(value.value) if isinstance(value, ast.AST) else value)
        words = bool(re.search(r"[A-Za-z]{2}|\ba\b", re.sub(r"\{\d+\}", "", msgid)))  # "a {0}"
        piece = Piece(msgid, tuple(fields), (self.module, node.lineno), words)
        return f"({pattern})", Node("piece", group, piece, field_nodes)


def _is_text_choice(value: ast.FormattedValue) -> bool:
    if value.conversion != -1 or value.format_spec is not None:
        return False
    texts = [n for n in ast.walk(value.value) if isinstance(n, ast.Constant)]
    return isinstance(value.value, ast.IfExp | ast.BoolOp) and all(
        isinstance(n.value, str) or n in _tests(value.value) for n in texts
    )


def _tests(node: ast.expr) -> set[ast.AST]:
    """The constants inside an ``if`` expression's condition (``n > 1``), which are not texts."""
    if isinstance(node, ast.IfExp):
        return set(ast.walk(node.test)) | _tests(node.body) | _tests(node.orelse)
    return set()


def _is_format_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def _format_parts(template: str) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append((literal, None))
        if name is not None:
            parts.append(("", name))
    return parts


def module_sites(path: Path) -> list[Site]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = assignments(tree)
    messages = message_expressions(tree)
    tables = template_constants(tree)
    read = messages + named_fields(messages, names) + tables
    labels = label_strings(tree, read, names)
    sites = []
    for expression in read + labels:
        builder = _Builder(path.name, names)
        if expression in tables and isinstance(expression, ast.Constant | ast.JoinedStr):
            pattern, root = builder.table_template(expression)  # filled in by str.format
        else:
            pattern, root = builder.build(expression)
        if pieces_of(root):
            sites.append(Site(re.compile(pattern, re.DOTALL), root, expression in labels))
    return sites


_SITES_LOCK = threading.Lock()


@cache
def _read_sites() -> tuple[Site, ...]:
    return tuple(site for path in check_modules() for site in module_sites(path))


def all_sites() -> tuple[Site, ...]:
    """Read once, under a lock: ``grade`` translates from several threads, and CPython 3.11's
    ``ast.parse`` in two threads at once can fail with "AST constructor recursion depth
    mismatch" (python/cpython#106905; it failed CI once)."""
    with _SITES_LOCK:
        return _read_sites()


def check_modules() -> list[Path]:
    return sorted(CHECKS_DIR.glob("*.py"))


def fixed_length(node: Node) -> int:
    """How much fixed text a node always writes (an alternative: its shortest option)."""
    own = len(re.sub(r"\{\d+\}", "", node.piece.msgid)) if node.piece is not None else 0
    lengths = [fixed_length(child) for child in node.children]
    return own + (min(lengths, default=0) if node.kind == "alt" else sum(lengths))


def pieces_of(node: Node) -> list[Piece]:
    """The pieces a translator translates (those with words), in the order they print."""
    found = [node.piece] if node.piece is not None and node.piece.words else []
    for child in node.children:
        found += pieces_of(child)
    return found
