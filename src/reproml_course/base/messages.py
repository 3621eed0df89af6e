"""What a check prints, in the student's language.

The language is ``$REPROML_LANG`` (``fr``, ``en``) when it is set; else the folder of the
notebook the kernel runs (Jupyter tells the kernel its notebook in ``$JPY_SESSION_NAME``: a
notebook in ``notebooks/fr/`` is French); else English. The French student notebooks' first
cell sets ``REPROML_LANG`` (unless it is set already), which is what Colab, where no folder is
known, goes by; ``reproml-course grade`` and ``execute`` set it from the notebook's metadata.

The translations are a gettext catalog, ``locale/<language>/checks.po`` in the repository, which
``reproml-course build`` compiles into ``src/reproml_course/locale/<language>/checks.json`` (the
package carries no gettext reader: Babel is a development tool).
The frames (a passed line, the hint's words) are looked up by their English (``say``); a
failure's free-form English is matched against the checks' own source (``message_sites``).
"""

from __future__ import annotations

import json
import os
import re
import string
from functools import cache
from pathlib import Path

from reproml_course.base.paths import LANGUAGE_ENV

CATALOG = "checks.json"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
MAX_DEPTH = 4  # fields translated inside fields, at most this deep
GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")  # a number written with f"{n:,}"
FIGURE_CONTEXT = "figure"  # the catalog's context of reproml's figures' words
THOUSANDS = {"fr": "\u202f"}  # the separator of thousands, where it is not a comma


def language() -> str:
    """``en`` or a language the checks are translated into (see the module's docstring)."""
    chosen = os.environ.get(LANGUAGE_ENV, "").strip()
    if not chosen:
        session = os.environ.get("JPY_SESSION_NAME", "")
        chosen = Path(session).parent.name if session else ""
    code = chosen.replace("-", "_").split("_")[0].split(".")[0].lower()
    return code if code in available_languages() else "en"


@cache
def available_languages() -> tuple[str, ...]:
    return ("en", *sorted(p.parent.name for p in LOCALE_DIR.glob(f"*/{CATALOG}")))


@cache
def _catalog(code: str) -> dict[str, str]:
    return json.loads((LOCALE_DIR / code / CATALOG).read_text(encoding="utf-8"))


def say(english: str, **fields: object) -> str:
    """``english`` (a ``str.format`` template with named fields) in the student's language."""
    return say_in(language(), english, **fields)


def say_in(code: str, english: str, **fields: object) -> str:
    """``english`` in the language ``code`` (a grader speaks each notebook's language)."""
    return _said(code, None, english, fields)


def say_in_context(context: str, english: str, **fields: object) -> str:
    """``say`` for a word that means something else elsewhere ("train" on a figure's legend):
    looked up in the catalog's ``msgctxt`` ``context`` only."""
    return _said(language(), context, english, fields)


def _said(code: str, context: str | None, english: str, fields: dict) -> str:
    template = _lookup(context_key(context, english), code) or english
    return fill_fields(template, {name: _number(v, code) for name, v in fields.items()})


def context_key(context: str | None, english: str) -> str:
    """The compiled catalog's key of an entry with a gettext context (its ``\x04``)."""
    return f"{context}\x04{english}" if context else english


def _number(value: object, code: str) -> object:
    """A number written with ``f"{n:,}"`` in the language's way (``60 000`` in French); any
    other value as it is."""
    if code in THOUSANDS and isinstance(value, str) and GROUPED.fullmatch(value):
        return value.replace(",", THOUSANDS[code])
    return value


def translate(text: str, code: str | None = None, depth: int = 0) -> str:
    """A check's English message in ``code`` (default: the student's language); as it was
    where no site explains it (a value, the student's own error message)."""
    code = code or language()
    if code == "en" or not text or depth > MAX_DEPTH:
        return text
    exact = _lookup(text, code)
    if exact:
        return exact
    from reproml_course.base.message_sites import all_sites

    best, best_score = None, 0
    for site in all_sites():
        match = site.pattern.fullmatch(text)
        if match is not None:
            score = _literal_length(site.root, match)
            if score > best_score:
                best, best_score = (site, match), score
    if best is None:
        return text
    site, match = best
    return _render(site.root, match, code, depth)


def _lookup(english: str, code: str) -> str:
    """The translation of ``english`` in ``code``, or "" where it has none."""
    return "" if code == "en" else _catalog(code).get(english, "")


def _literal_length(node, match) -> int:
    if node.kind == "piece":
        if match.group(node.group) is None:
            return 0
        own = len(re.sub(r"\{\d+\}", "", node.piece.msgid))
        return own + sum(_literal_length(c, match) for c in node.children)
    if node.kind == "alt":
        return sum(_literal_length(c, match) for c in node.children if match.group(c.group))
    return sum(_literal_length(c, match) for c in node.children)


def _render(node, match, code: str, depth: int) -> str:
    if node.kind == "wild":
        value = match.group(node.group) or ""
        grouped = _number(value, code)
        return grouped if grouped != value else translate(value, code, depth + 1)
    if node.kind == "piece":
        if match.group(node.group) is None:
            return ""
        translation = _lookup(node.piece.msgid, code) or node.piece.msgid  # fields still are
        values = {str(i): _render(c, match, code, depth) for i, c in enumerate(node.children)}
        return fill_fields(translation, values)
    if node.kind == "alt":
        chosen = [c for c in node.children if match.group(c.group) is not None]
        return _render(chosen[0], match, code, depth) if chosen else ""
    return "".join(_render(c, match, code, depth) for c in node.children)


def fill_fields(template: str, values: dict) -> str:
    """``template`` with its fields replaced by ``values`` (already text: no format spec is
    applied twice, and a brace in a value stays a brace)."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(str(values.get(name, "{" + name + "}")))
    return "".join(out)
