"""The course in another language, built from the English solutions and their catalogs.

For each English solution that has a catalog ``locale/<language>/<name>.po``, the build writes
``solutions/<language>/<name>`` (the solution with every unit translated, its outputs cleared
until it is executed in that language) and, from it, the student version
``notebooks/<language>/<name>``. A catalog behind its English (new, changed or untranslated
units) stops the build and is named with each entry, so a translation never drifts silently.
``update_catalogs`` is ``reproml-course translate``: it merges today's English into each
catalog for the translator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import ClearOutputPreprocessor

from reproml_course.authoring.build import build_student_notebook
from reproml_course.authoring.launch import GitHubRepository
from reproml_course.authoring.translation_catalogs import (
    LANGUAGES,
    CatalogState,
    catalog_path,
    catalog_problems,
    notebook_template,
    read_catalog,
    translate_notebook,
    update_catalog,
)
from reproml_course.base.notebooks import list_notebooks, notebook_text, read_notebook


@dataclass
class TranslationReport:
    expected: dict[Path, str] = field(default_factory=dict)  # path -> the text it should hold
    problems: dict[Path, list[str]] = field(default_factory=dict)  # catalog -> what is not ready


def translated_notebooks(
    solutions: Path,
    notebooks: Path,
    locale_dir: Path,
    repository: GitHubRepository,
    languages: tuple[str, ...] = LANGUAGES,
) -> TranslationReport:
    """What each translated solution and student notebook should hold, or why it cannot be
    built yet."""
    report = TranslationReport()
    for source in list_notebooks(solutions):
        for language in languages:
            path = catalog_path(locale_dir, language, source)
            if not path.is_file():
                continue
            english = read_notebook(source)
            catalog = read_catalog(path)
            problems = catalog_problems(catalog, notebook_template(english, source.name))
            if problems:
                report.problems[path] = problems
                continue
            solution = translate_notebook(english, catalog, language)
            solution, _ = ClearOutputPreprocessor().preprocess(solution, {})
            student = build_student_notebook(
                solution, f"notebooks/{language}/{source.name}", repository, language
            )
            report.expected[solutions / language / source.name] = notebook_text(solution)
            report.expected[notebooks / language / source.name] = notebook_text(student)
    return report


def update_catalogs(
    solutions: Path, locale_dir: Path, language: str, names: list[str] | None = None
) -> list[CatalogState]:
    """Merge the English of each solution (or of ``names``) into its catalog, creating it."""
    states = []
    for source in list_notebooks(solutions):
        if names and source.stem not in names and source.name not in names:
            continue
        template = notebook_template(read_notebook(source), source.name)
        states.append(
            update_catalog(catalog_path(locale_dir, language, source), template, language)
        )
    return states
