"""Catalogs that follow their English: created, filled, marked fuzzy when the English changes,
and a build that refuses to write a translation behind its English, naming each entry."""

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from reproml.base.errors import ReproMLError
from reproml_course.authoring.translation_catalogs import (
    catalog_problems,
    document_template,
    notebook_template,
    read_catalog,
    translate_notebook,
    update_catalog,
    write_catalog,
)
from reproml_course.base.notebooks import write_notebook
from reproml_course.cli.translate import build_translations

FRENCH = {
    "# 01 · Results": "# 01 · Résultats",
    "Train a model, then look at it.": "Entraînez un modèle, puis regardez-le.",
    "the learning rate": "le taux d'apprentissage",
    "return the best run": "renvoyez la meilleure exécution",
}


def english() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# 01 · Results\n\nTrain a model, then look at it."),
            new_code_cell("lr = 0.1  # the learning rate"),
            new_code_cell(
                "def best(runs):\n    ### BEGIN SOLUTION: return the best run\n"
                "    return max(runs)\n    ### END SOLUTION"
            ),
            new_code_cell("checks.exercise_1_2(best)", metadata={"tags": ["nbval-check-output"]}),
        ]
    )


def filled_catalog(path: Path, nb) -> None:
    update_catalog(path, notebook_template(nb, "01_results.ipynb"), "fr")
    catalog = read_catalog(path)
    for message in catalog:
        if message.id:
            message.string = FRENCH[message.id]
    write_catalog(path, catalog)


def test_a_new_catalog_holds_every_unit_untranslated_then_translates(tmp_path):
    nb, path = english(), tmp_path / "fr" / "01_results.po"
    template = notebook_template(nb, "01_results.ipynb")
    state = update_catalog(path, template, "fr")
    assert (state.entries, state.untranslated, state.fuzzy) == (4, 4, 0)
    assert "01_results.ipynb:1" in path.read_text() and "Language: fr" in path.read_text()
    problems = catalog_problems(read_catalog(path), template)
    assert len(problems) == 4 and "cell 2: not translated: 'the learning rate'" in problems[2]
    filled_catalog(path, nb)
    assert catalog_problems(read_catalog(path), template) == []
    french = translate_notebook(nb, read_catalog(path), "fr")
    assert french.cells[0].source == "# 01 · Résultats\n\nEntraînez un modèle, puis regardez-le."
    assert french.cells[1].source == "lr = 0.1  # le taux d'apprentissage"
    assert "### BEGIN SOLUTION: renvoyez la meilleure exécution" in french.cells[2].source
    assert french.cells[3] == nb.cells[3] and french.metadata["reproml"]["language"] == "fr"


def test_changed_english_is_named_then_fuzzy_until_a_translator_checks_it(tmp_path):
    nb, path = english(), tmp_path / "fr" / "01_results.po"
    filled_catalog(path, nb)
    nb.cells[0].source = nb.cells[0].source.replace("then look", "then look closely")
    template = notebook_template(nb, "01_results.ipynb")
    [problem] = catalog_problems(read_catalog(path), template)
    assert "new English, not in the catalog yet: 'Train a model, then look closely" in problem
    state = update_catalog(path, template, "fr")
    assert (state.untranslated, state.fuzzy) == (0, 1)
    text = path.read_text()
    assert '#| msgid "Train a model, then look at it."' in text and "#, fuzzy" in text
    [problem] = catalog_problems(read_catalog(path), template)
    assert problem.startswith(
        "01_results.ipynb, cell 1: the English changed since it was translated"
    )
    with pytest.raises(ReproMLError, match="No translation ready"):
        translate_notebook(nb, read_catalog(path), "fr")


def test_the_build_writes_the_french_notebooks_and_its_check_fails_on_drift(tmp_path, capsys):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nb = english()
    write_notebook(nb, solutions / "01_results.ipynb")
    filled_catalog(tmp_path / "locale" / "fr" / "01_results.po", nb)

    assert build_translations(solutions, notebooks, check=True) == 1  # not built yet
    assert build_translations(solutions, notebooks, check=False) == 0
    student = nbformat.read(notebooks / "fr" / "01_results.ipynb", as_version=4)
    stub = next(c.source for c in student.cells if "NotImplementedError" in c.source)
    assert "# YOUR CODE HERE" in stub and "renvoyez la meilleure exécution" in stub
    assert "Entraînez un modèle" in "".join(c.source for c in student.cells)
    assert build_translations(solutions, notebooks, check=True) == 0
    capsys.readouterr()

    nb.cells[1].source = "lr = 0.1  # the learning rate, a float"
    write_notebook(nb, solutions / "01_results.ipynb")
    assert build_translations(solutions, notebooks, check=True) == 1
    error = capsys.readouterr().err
    assert "01_results.po is behind its English (1 entries)" in error
    assert "cell 2: new English, not in the catalog yet: 'the learning rate, a float'" in error


def test_the_readme_is_translated_with_a_chapter_table_of_its_own(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nb = english()
    write_notebook(nb, solutions / "01_results.ipynb")
    filled_catalog(tmp_path / "locale" / "fr" / "01_results.po", nb)
    (tmp_path / "README.md").write_text(
        "# The course\n\nRead the chapters.\n\n"
        "<!-- chapters: generated by reproml-course build -->\n| old |\n<!-- end chapters -->\n"
    )
    readme_catalog = tmp_path / "locale" / "fr" / "README.po"
    template = document_template((tmp_path / "README.md").read_text(), "README.md")
    assert [m.id for m in template if m.id] == ["# The course", "Read the chapters."]
    update_catalog(readme_catalog, template, "fr")
    catalog = read_catalog(readme_catalog)
    for message, french in zip(
        [m for m in catalog if m.id], ["# Le cours", "Lisez les chapitres."], strict=True
    ):
        message.string = french
    write_catalog(readme_catalog, catalog)

    assert build_translations(solutions, notebooks, check=False) == 0
    french = (tmp_path / "README.fr.md").read_text()
    assert french.startswith("# Le cours\n\nLisez les chapitres.\n\n<!-- chapters:")
    assert "| # | chapitre (la solution, avec ses sorties) | les exercices |" in french
    assert "[Résultats](solutions/fr/01_results.ipynb)" in french
    assert "notebooks/fr/01_results.ipynb" in french and "| old |" not in french


LONG = (
    "Run it twice:\n- the same line\n- the same line\n"
    "- a line long enough to pass the catalog's width of a hundred characters, so it is wrapped"
)


def test_a_long_old_english_is_kept_as_gettext_writes_it_and_reads_back_unchanged(tmp_path):
    """Babel rewraps a long ``#| msgid`` into lines no tool reads, then reads them back as
    translator comments that pile up at each update: a fuzzy entry's old English must survive
    update after update, exactly, and the file must stay a valid catalog."""
    path = tmp_path / "fr" / "guide.po"
    update_catalog(path, document_template(LONG, "guide.md"), "fr")
    catalog = read_catalog(path)
    [message] = [m for m in catalog if m.id]
    message.string = "Exécutez-le deux fois :\n" + LONG.split("\n", 1)[1]
    write_catalog(path, catalog)
    changed = LONG.replace("twice", "three times")
    update_catalog(path, document_template(changed, "guide.md"), "fr")
    written = path.read_text()
    old = '#| msgid ""\n#| "Run it twice:\\n"\n#| "- the same line\\n"\n#| "- the same line\\n"'
    assert old in written
    for _ in range(2):
        update_catalog(path, document_template(changed, "guide.md"), "fr")
        assert path.read_text() == written
    [entry] = [m for m in read_catalog(path) if m.id]
    assert entry.fuzzy and entry.user_comments == [] and entry.previous_id == [LONG]
    if shutil.which("msgfmt"):  # GNU gettext, what translators' tools build on
        subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(path)], check=True)


def test_a_placeholder_only_the_translation_has_is_named(tmp_path):
    nb, path = english(), tmp_path / "fr" / "01_results.po"
    filled_catalog(path, nb)
    catalog = read_catalog(path)
    catalog.get("Train a model, then look at it.").string = "Entraînez un modèle{N}: regardez-le."
    write_catalog(path, catalog)
    [problem] = catalog_problems(read_catalog(path), notebook_template(nb, "01_results.ipynb"))
    assert "{N} in the translation only: 'Train a model, then look at it.'" in problem


def test_a_percent_sign_is_no_format_string_for_gettext(tmp_path):
    path = tmp_path / "fr" / "guide.po"
    update_catalog(path, document_template("About 87% of them.", "guide.md"), "fr")
    catalog = read_catalog(path)
    catalog.get("About 87% of them.").string = "Environ 87 % d'entre eux."
    write_catalog(path, catalog)
    assert "python-format" not in path.read_text()
    if shutil.which("msgfmt"):
        subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(path)], check=True)


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext's msgfmt is not installed")
def test_every_catalog_of_the_course_passes_msgfmt_check():
    """What Poedit, Weblate and Lokalize build on: a catalog msgfmt refuses (a broken old
    English, a format flag the translation cannot match) fails their users first."""
    catalogs = sorted((Path(__file__).resolve().parents[2] / "locale").glob("*/*.po"))
    assert catalogs
    for catalog in catalogs:
        done = subprocess.run(
            ["msgfmt", "--check", "-o", os.devnull, str(catalog)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
