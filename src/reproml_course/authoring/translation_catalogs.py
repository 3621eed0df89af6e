"""A notebook's translations kept as a gettext catalog, the format translators' tools read
(Poedit, Weblate, Lokalize): ``locale/<language>/<notebook>.po``, one entry per unit of
``translation``, the English as its ``msgid``, the cells it comes from as its locations.

``update_catalog`` merges the English of today into a catalog with Babel, as ``msgmerge``
does: a unit whose English changed keeps its old translation marked ``fuzzy`` (with the old
English beside it, ``#| msgid``) until a translator checks it; a new unit comes untranslated;
a unit that is gone is dropped. ``catalog_problems`` names every entry that is not ready, so the
build refuses to write a notebook from a catalog behind its English.
"""

from __future__ import annotations

import copy
import datetime
import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import denormalize, normalize, read_po, write_po
from nbformat import NotebookNode

from reproml.base.errors import ReproMLError
from reproml_course.authoring.translation import (
    cell_units,
    document_units,
    translated_source,
    translated_text,
)

LANGUAGES = ("fr",)
# A fixed date: the catalogs change only when their entries do.
CREATED = datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)
WIDTH = 100
# A fuzzy entry's old English, as gettext writes it: "#| msgid" lines, then the entry's msgid.
PREVIOUS_ID = re.compile(
    r'^#\| msgid (?P<previous>.*(?:\n#\| ".*)*)\nmsgid (?P<id>.*(?:\n".*)*)\nmsgstr', re.M
)
FIELD = re.compile(r"\{\w*\}")
HEADER = """\
# {name}: a chapter of the course, translated.
# Write each msgstr (Poedit, Lokalize, Weblate...). `uv run reproml-course
# translate` merges today's English and marks "fuzzy" each entry whose
# English changed. docs/glossaire.md lists the terms the translation uses.
#"""


@dataclass(frozen=True)
class CatalogState:
    path: Path
    entries: int
    untranslated: int
    fuzzy: int


def catalog_path(locale_dir: Path, language: str, notebook: Path) -> Path:
    return locale_dir / language / f"{notebook.stem}.po"


def notebook_template(nb: NotebookNode, name: str) -> Catalog:
    """Every unit of the English notebook ``name``, in notebook order, located by cell."""
    template = Catalog(project="reproml", creation_date=CREATED, fuzzy=False)
    for index, cell in enumerate(nb.cells):
        for unit in cell_units(cell):
            template.add(unit.text, locations=[(name, index + 1)])  # cell 1 is the first
    return template


def document_template(text: str, name: str) -> Catalog:
    """Every block of the markdown document ``name``, located by its first line."""
    template = Catalog(project="reproml", creation_date=CREATED, fuzzy=False)
    for unit in document_units(text):
        template.add(unit.text, locations=[(name, text.count("\n", 0, unit.start) + 1)])
    return template


def translate_document(text: str, catalog: Catalog) -> str:
    return translated_text(text, document_units(text), lambda unit: _translation(catalog, unit))


def read_catalog(path: Path) -> Catalog:
    text = path.read_text(encoding="utf-8")
    catalog = read_po(io.StringIO(text))
    previous = {
        denormalize(found["id"]): denormalize(re.sub(r"^#\| ", "", found["previous"], flags=re.M))
        for found in PREVIOUS_ID.finditer(text)
    }
    for message in catalog:  # Babel reads "#| msgid" lines as translator comments, deduplicated
        message.user_comments = [line for line in message.user_comments if not line.startswith("|")]
        if message.id in previous:
            message.previous_id = [previous[message.id]]
    return catalog


def write_catalog(path: Path, catalog: Catalog) -> None:
    """Babel writes a long ``#| msgid`` (the English a fuzzy entry was translated from) rewrapped
    into lines no tool reads back, so those lines are written here, as ``msgmerge`` does. Babel
    also flags as ``python-format`` any text where a letter follows "%" ("87% on"), and
    ``msgfmt --check`` then refuses the French ("87 % sur"): nothing here is %-formatted."""
    for message in catalog:
        message.flags.discard("python-format")
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, ignore_obsolete=True)
    text = buffer.getvalue().decode("utf-8")
    for message in catalog:
        if message.id and message.previous_id and message.fuzzy:
            entry = f"\nmsgid {normalize(message.id, width=WIDTH)}\nmsgstr "
            old = normalize(message.previous_id[0], prefix="#| ", width=WIDTH)
            text = text.replace(entry, f"\n#| msgid {old}{entry}", 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def update_catalog(path: Path, template: Catalog, language: str) -> CatalogState:
    """Create or update the catalog at ``path`` from ``template``; what it holds now."""
    if path.is_file():
        catalog = read_catalog(path)
        previous = {m.id: m.previous_id for m in catalog if m.id and m.previous_id}
        catalog.update(template, update_creation_date=False)
        for message in catalog:  # Babel forgets it when the English did not change again
            if message.fuzzy and not message.previous_id and message.id in previous:
                message.previous_id = previous[message.id]
    else:
        catalog = Catalog(
            locale=language,
            project="reproml",
            header_comment=HEADER.format(name=path.stem),
            creation_date=CREATED,
            fuzzy=False,
        )
        catalog.revision_date = CREATED
        for message in template:
            if message.id:
                catalog.add(message.id, "", locations=message.locations, context=message.context)
    write_catalog(path, catalog)
    problems = _entries(catalog)
    return CatalogState(
        path,
        entries=len(problems),
        untranslated=sum(1 for m in problems if not m.string),
        fuzzy=sum(1 for m in problems if m.string and m.fuzzy),
    )


def catalog_problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What keeps the catalog from translating the notebook: English it does not hold yet,
    entries left untranslated, entries whose English changed since they were translated, and
    a ``{field}`` the English does not have (a placeholder typed for a character, ``{N}``)."""
    problems = []
    for message in _entries(template):
        entry = catalog.get(message.id, context=message.context)
        where = _where(message)
        if entry is None:
            problems.append(f"{where}: new English, not in the catalog yet: {_short(message.id)}")
        elif not entry.string:
            problems.append(f"{where}: not translated: {_short(message.id)}")
        elif entry.fuzzy:
            problems.append(
                f"{where}: the English changed since it was translated (fuzzy): "
                f"{_short(message.id)}"
            )
        elif extra := sorted(set(FIELD.findall(entry.string)) - set(FIELD.findall(message.id))):
            problems.append(
                f"{where}: {', '.join(extra)} in the translation only: {_short(message.id)}"
            )
    return problems


def translate_notebook(nb: NotebookNode, catalog: Catalog, language: str) -> NotebookNode:
    """The notebook with each unit in ``language``; every other character as it was."""
    translated = copy.deepcopy(nb)
    for cell in translated.cells:
        cell.source = translated_source(cell, lambda text: _translation(catalog, text))
    translated.metadata.setdefault("reproml", {})["language"] = language
    return translated


def _translation(catalog: Catalog, text: str) -> str:
    entry = catalog.get(text)
    if entry is None or not entry.string or entry.fuzzy:
        raise ReproMLError(f"No translation ready for: {_short(text)}")
    return entry.string


def _entries(catalog: Catalog) -> list:
    return [message for message in catalog if message.id]


def _where(message) -> str:
    name, place = message.locations[0] if message.locations else ("?", 0)
    return f"{name}, {'cell' if name.endswith('.ipynb') else 'line'} {place}"


def _short(text: str, limit: int = 70) -> str:
    line = " ".join(text.split())
    return repr(line if len(line) <= limit else line[: limit - 3] + "...")
