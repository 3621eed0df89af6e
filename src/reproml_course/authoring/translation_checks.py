"""The checks' catalog: everything a check, a hint or a quiz prints, for ``locale/<l>/checks.po``.

Its entries are the pieces of ``base.message_sites`` (located by module and line, each field
named in a comment: ``{0}`` is ``name``...), the frames ``base`` and ``quiz`` pass to ``say``,
each exercise's title and second hint (its ``hint=`` or its docstring) and each quiz question's
explanation. ``compiled_messages`` is what the build writes into the package for ``messages``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from nbformat import NotebookNode

from reproml_course.authoring.translation_catalogs import CREATED
from reproml_course.base.message_sites import check_modules, module_sites, pieces_of
from reproml_course.base.messages import FIGURE_CONTEXT, context_key, fill_fields
from reproml_course.checks.base import MIME_TYPE, PASSED_LINE

PACKAGE = Path(__file__).resolve().parents[1]
SPEAKERS = {  # modules outside the checks that speak the student's language, with ``say``
    PACKAGE / "authoring" / "grade.py": "what reproml-course grade reports",
    PACKAGE / "chapters" / "notebook.py": "a chapter's setup",
}
# reproml's figures: their words ("train", "true") live in a context of their own, so that a
# check's value that happens to be the same word is never taken for one of them.
FIGURES = PACKAGE.parent / "reproml" / "plots.py"
LABEL = (
    "a label the check may show inside a message; where it is code, a name or a value the "
    "student sees elsewhere too (a commit message), its translation is the English itself"
)
FIELD = re.compile(r"(?<!\{)\{([A-Za-z_0-9]*)\}")


def checks_template() -> Catalog:
    template = Catalog(project="reproml", creation_date=CREATED, fuzzy=False)
    for path, comment in SPEAKERS.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for text, line in _said(tree, {**SAYERS, "zero": 0}):  # and grade's zero(message)
            _add(template, text, (path.name, line), comment)
    for text, line in _said(ast.parse(FIGURES.read_text(encoding="utf-8")), {"_text": 0}):
        comment = "a figure's title, axis label or legend: short"
        _add(template, text, (FIGURES.name, line), comment, context=FIGURE_CONTEXT)
    for path in check_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for text, line, comment in _exercise_texts(tree):
            _add(template, text, (path.name, line), comment)
        for text, line in _said(tree):
            _add(template, text, (path.name, line), "")
        if path.name == "base.py":
            _add(template, PASSED_LINE, (path.name, 0), "a passed check")
        for site in module_sites(path):
            for piece in pieces_of(site.root):
                fields = "; ".join(f"{{{i}}}: {e}" for i, e in enumerate(piece.fields))
                label = [LABEL] if site.label else []
                _add(template, piece.msgid, piece.location, fields, *label)
    quiz = yaml.safe_load((check_modules()[0].parent / "quiz.yaml").read_text(encoding="utf-8"))
    for question in quiz:
        comment = f"question {question['id']}: the idea behind the answer, after a wrong one"
        _add(template, question["explanation"], ("quiz.yaml", 0), comment)
    return template


def _add(
    template: Catalog,
    text: str,
    location: tuple[str, int],
    *comments: str,
    context: str | None = None,
) -> None:
    comments = tuple(c for c in comments if c)
    message = template.get(text, context=context)
    if message is None:
        template.add(text, locations=[location], auto_comments=list(comments), context=context)
        return
    message.locations.append(location)
    message.auto_comments += [c for c in comments if c not in message.auto_comments]


SAYERS = {"say": 0, "say_in": 1}  # function -> the index of its English argument


def _said(tree: ast.Module, sayers: dict[str, int] = SAYERS) -> list[tuple[str, int]]:
    """The English of each ``say("...")`` and ``say_in(language, "...")``."""
    found = []
    for node in ast.walk(tree):
        name = getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
        english = sayers.get(name or "")
        text = node.args[english] if english is not None and len(node.args) > english else None
        if isinstance(text, ast.Constant):
            found.append((text.value, node.lineno))
    return found


def _exercise_texts(tree: ast.Module) -> list[tuple[str, int, str]]:
    """Each exercise's title and second hint (``hint=``, else the check's docstring)."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for decorator in function.decorator_list:
            if not (
                isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "exercise"
            ):
                continue
            id = ast.literal_eval(decorator.args[0])
            title = ast.literal_eval(decorator.args[1])
            found.append((title, decorator.lineno, f"exercise {id}: its title"))
            hints = [_constant(k.value, tree) for k in decorator.keywords if k.arg == "hint"]
            hint = hints[0] if hints else ast.get_docstring(function) or ""
            if hint:
                text = " ".join(hint.split())
                found.append((text, function.lineno, f"exercise {id}: its second hint"))
    return found


def _constant(node: ast.expr, tree: ast.Module) -> str:
    """A text given as such or as the name of a module-level constant."""
    if isinstance(node, ast.Name):
        for statement in tree.body:
            targets = getattr(statement, "targets", [getattr(statement, "target", None)])
            if any(getattr(t, "id", None) == node.id for t in targets):
                return ast.literal_eval(statement.value)
    return ast.literal_eval(node)


def field_problems(catalog: Catalog) -> list[str]:
    """Translations whose fields are not their English's: a field lost, renamed or invented
    would print a wrong or a raw ``{0}``."""
    problems = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        if sorted(FIELD.findall(message.id)) != sorted(FIELD.findall(message.string)):
            where = message.locations[0] if message.locations else ("?", 0)
            problems.append(
                f"{where[0]}, line {where[1]}: the translation's fields "
                f"{sorted(set(FIELD.findall(message.string)))} are not the English's "
                f"{sorted(set(FIELD.findall(message.id)))}: {message.id[:60]!r}"
            )
    return problems


def compiled_messages(catalog: Catalog) -> str:
    """The translated entries, as ``messages`` reads them (JSON, sorted: the same catalog
    always compiles to the same text)."""
    entries = {
        context_key(m.context, m.id): m.string
        for m in catalog
        if m.id and m.string and not m.fuzzy and m.string != m.id
    }
    return json.dumps(dict(sorted(entries.items())), ensure_ascii=False, indent=0) + "\n"


def compiled_path(package_dir: Path, language: str) -> Path:
    return package_dir / "locale" / language / "checks.json"


def translate_check_outputs(nb: NotebookNode, catalog: Catalog) -> None:
    """A translated solution's passed check lines in its language (in place): the solution's
    outputs are its English execution's, the same code's; only what the checks say differs."""
    passed = catalog.get(PASSED_LINE)
    if passed is None or not passed.string or passed.fuzzy:
        return
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(MIME_TYPE)
            if record and record.get("passed"):
                fields = {k: record[k] for k in ("exercise", "points", "max_points")}
                output["data"]["text/plain"] = fill_fields(passed.string, fields)
