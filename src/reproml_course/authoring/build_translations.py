"""The course in another language, built from the English solutions and their catalogs.

For each English solution that has a catalog ``locale/<language>/<name>.po``, the build writes
``solutions/<language>/<name>`` (the solution with every unit translated and its English
execution's outputs, the passed checks' lines in that language) and, from it, the student version
``notebooks/<language>/<name>``. A catalog behind its English (new, changed or untranslated
units) stops the build and is named with each entry, so a translation never drifts silently.
``update_catalogs`` is ``reproml-course translate``: it merges today's English into each
catalog for the translator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog

from reproml_course.authoring.build import build_student_notebook, notebook_title
from reproml_course.authoring.launch import GitHubRepository, readme_blocks, update_readme
from reproml_course.authoring.translation_catalogs import (
    LANGUAGES,
    CatalogState,
    catalog_path,
    catalog_problems,
    document_template,
    notebook_template,
    read_catalog,
    translate_document,
    translate_notebook,
    update_catalog,
)
from reproml_course.authoring.translation_checks import (
    checks_template,
    compiled_messages,
    compiled_path,
    field_problems,
    translate_check_outputs,
)
from reproml_course.base.notebooks import list_notebooks, notebook_text, read_notebook

GUIDE = Path("docs/instructor.md")  # translated as docs/instructor.<language>.md
CHECKS_CATALOG = "checks"  # locale/<language>/checks.po: what the checks print
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/reproml_course


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
    titles: dict[str, dict[str, str]] = {language: {} for language in languages}
    checks = {
        language: read_catalog(path)
        for language in languages
        if (path := locale_dir / language / f"{CHECKS_CATALOG}.po").is_file()
    }
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
            translate_check_outputs(solution, checks.get(language) or Catalog())
            student = build_student_notebook(
                solution, f"notebooks/{language}/{source.name}", repository, language
            )
            report.expected[solutions / language / source.name] = notebook_text(solution)
            report.expected[notebooks / language / source.name] = notebook_text(student)
            titles[language][source.name] = notebook_title(solution)
    for language in languages:
        _translate_readme(
            solutions.parent, locale_dir, language, titles[language], repository, report
        )
        _translate_guide(solutions.parent, locale_dir, language, report)
        _compile_checks(locale_dir, language, report)
    return report


def _translate_guide(
    root: Path, locale_dir: Path, language: str, report: TranslationReport
) -> None:
    """``docs/instructor.<language>.md`` from the instructor guide and its catalog."""
    translated = _translated_document(root / GUIDE, locale_dir, language, report)
    if translated is not None:
        report.expected[root / GUIDE.with_suffix(f".{language}.md")] = translated


def _translated_document(
    source: Path, locale_dir: Path, language: str, report: TranslationReport
) -> str | None:
    """A markdown document through its catalog ``locale/<language>/<stem>.po``; None where
    either is missing, or the catalog is behind its English (its problems in ``report``)."""
    path = locale_dir / language / f"{source.stem}.po"
    if not (source.is_file() and path.is_file()):
        return None
    text = source.read_text(encoding="utf-8")
    catalog = read_catalog(path)
    problems = catalog_problems(catalog, document_template(text, source.name))
    if problems:
        report.problems[path] = problems
        return None
    return translate_document(text, catalog)


def _compile_checks(locale_dir: Path, language: str, report: TranslationReport) -> None:
    """The checks' catalog compiled into the package, where ``base.messages`` reads it."""
    path = locale_dir / language / f"{CHECKS_CATALOG}.po"
    if not path.is_file():
        return
    catalog = read_catalog(path)
    problems = catalog_problems(catalog, checks_template()) + field_problems(catalog)
    if problems:
        report.problems[path] = problems
        return
    report.expected[compiled_path(PACKAGE_DIR, language)] = compiled_messages(catalog)


def _translate_readme(
    root: Path,
    locale_dir: Path,
    language: str,
    titles: dict[str, str],
    repository: GitHubRepository,
    report: TranslationReport,
) -> None:
    """``README.<language>.md`` from ``README.md`` and ``locale/<language>/README.po``, its
    chapter table and badges built for the translated notebooks."""
    readme = root / "README.md"
    translated = _translated_document(readme, locale_dir, language, report)
    if translated is None:
        return
    blocks = {  # the ones the README has a place for
        name: block
        for name, block in readme_blocks(titles, repository, language).items()
        if f"<!-- {name}: generated by" in translated  # kept as they are, like all HTML
    }
    report.expected[root / f"README.{language}.md"] = update_readme(translated, blocks)


def update_catalogs(
    solutions: Path, locale_dir: Path, language: str, names: list[str] | None = None
) -> list[CatalogState]:
    """Merge the English of each solution (or of ``names``) into its catalog, creating it."""
    states = []
    for document in (solutions.parent / "README.md", solutions.parent / GUIDE):
        if document.is_file() and (not names or document.stem in names):
            template = document_template(document.read_text(encoding="utf-8"), document.name)
            path = locale_dir / language / f"{document.stem}.po"
            states.append(update_catalog(path, template, language))
    if not names or CHECKS_CATALOG in names:
        path = locale_dir / language / f"{CHECKS_CATALOG}.po"
        states.append(update_catalog(path, checks_template(), language))
    for source in list_notebooks(solutions):
        if names and source.stem not in names and source.name not in names:
            continue
        template = notebook_template(read_notebook(source), source.name)
        states.append(
            update_catalog(catalog_path(locale_dir, language, source), template, language)
        )
    return states
