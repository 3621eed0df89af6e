"""Every French notebook is its English source with only the text a student reads changed:
the same cells, ids, tags, exercises and check calls, the same code once comments are set
aside."""

import re
from pathlib import Path

import nbformat
import pytest

from reproml_course.authoring.translation import translated_source
from reproml_course.base.notebooks import check_cells

ROOT = Path(__file__).resolve().parents[2]
FRENCH = sorted((ROOT / "solutions" / "fr").glob("*.ipynb")) + sorted(
    (ROOT / "notebooks" / "fr").glob("*.ipynb")
)


def without_text(cell) -> str:
    """The code of a cell, its comments emptied and its stub's message too."""
    return re.sub(
        r"NotImplementedError\(.*\)",
        "NotImplementedError()",
        translated_source(cell, lambda text: ""),
    )


@pytest.mark.parametrize("french", FRENCH, ids=lambda p: f"{p.parent.parent.name}/fr/{p.name}")
def test_a_french_notebook_has_the_cells_exercises_and_code_of_its_english(french):
    english_path = french.parent.parent / french.name
    english = nbformat.read(english_path, as_version=4)
    translated = nbformat.read(french, as_version=4)
    assert translated.metadata["reproml"]["language"] == "fr"
    assert len(translated.cells) == len(english.cells)
    assert check_cells(translated) == check_cells(english)
    for mine, theirs in zip(translated.cells, english.cells, strict=True):
        assert (mine.cell_type, mine.get("id"), mine.metadata.get("tags")) == (
            theirs.cell_type,
            theirs.get("id"),
            theirs.metadata.get("tags"),
        )
        if mine.get("id") == "colab-setup":  # it also chooses the checks' language
            language = 'os.environ.setdefault("REPROML_LANG", "fr")'
            assert language in mine.source and 'print(f"Colab : le cours' in mine.source

            def code(cell, said=(language, "print(")):
                text = without_text(cell).replace('"notebooks/fr"', '"notebooks"')
                return [line for line in text.splitlines() if not any(s in line for s in said)]

            assert code(mine) == code(theirs)
        elif mine.cell_type == "code":
            assert without_text(mine) == without_text(theirs), mine.get("id")


def test_each_catalog_has_its_french_notebooks():
    documents = {"README", "instructor", "checks"}  # README.fr.md, the guide, the checks
    catalogs = {p.stem for p in (ROOT / "locale" / "fr").glob("*.po")} - documents
    assert (ROOT / "README.fr.md").is_file()
    assert (ROOT / "docs" / "instructor.fr.md").is_file()
    assert (ROOT / "src" / "reproml_course" / "locale" / "fr" / "checks.json").is_file()
    for folder in ("solutions", "notebooks"):
        built = {p.stem for p in (ROOT / folder / "fr").glob("*.ipynb")}
        assert built == catalogs, folder
