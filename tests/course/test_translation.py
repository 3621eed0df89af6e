"""The units a translator sees, and a translation that changes nothing else of a notebook."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from reproml_course.authoring.translation import cell_units, translated_source

ROOT = Path(__file__).resolve().parents[2]


def texts(cell) -> list[str]:
    return [unit.text for unit in cell_units(cell)]


def test_a_markdown_cell_is_cut_at_blank_lines_and_leaves_fenced_code_alone():
    cell = new_markdown_cell(
        "## Title\nA paragraph\non two lines.\n\n```bash\n# not a comment to translate\n\n"
        "uv run x\n```\n\n| a | b |\n|---|---|\n\n<!-- a note for authors -->\n\n12 345"
    )
    assert texts(cell) == ["## Title\nA paragraph\non two lines.", "| a | b |\n|---|---|"]


def test_python_comments_and_the_exercise_instruction_are_units_and_tool_comments_are_not():
    cell = new_code_cell(
        "!pip list  # a shell line, left alone\n"
        "x = 1  # the first value\n"
        "### BEGIN SOLUTION: write the loop\n"
        "y = '# not a comment'  # noqa: E501\n"
        "### END SOLUTION\n"
        "z = 2  # fmt: skip"
    )
    assert texts(cell) == ["the first value", "write the loop"]


def test_yaml_comments_of_a_writefile_cell_and_hydra_directives():
    cell = new_code_cell(
        "%%writefile conf/experiment/x.yaml\n"
        "# @package _global_\n"
        "lr: 0.1  # learning rate\n"
        "name: 'a # b'  # quoted hash kept\n"
    )
    assert texts(cell) == ["learning rate", "quoted hash kept"]


def test_the_texts_a_figure_shows_are_units_and_a_translation_keeps_the_literal_whole():
    cell = new_code_cell(
        "%matplotlib inline\n"
        'ax.set(xscale="log", xlabel="learning rate", title=metric)  # the sweep\n'
        "fig.suptitle('Runs, read back')\n"
        'ax.plot(x, label=f"run {i}")\n'
        "ax.set_ylabel('caf\u00e9 \\n')"  # an escape: not a plain literal
    )
    assert texts(cell) == ["learning rate", "the sweep", "Runs, read back"]
    french = {"learning rate": "taux d'apprentissage", "Runs, read back": "L'exécution, relue"}
    source = translated_source(cell, lambda text: french.get(text, text))
    assert 'xlabel="taux d\'apprentissage"' in source
    assert "fig.suptitle('L\\'exécution, relue')" in source
    compile(source.replace("%matplotlib inline", ""), "cell", "exec")


def test_translating_changes_the_units_and_nothing_else():
    cell = new_code_cell("x = 1  # the first value\n\n# second\ny = x")
    assert translated_source(cell, str.upper) == "x = 1  # THE FIRST VALUE\n\n# SECOND\ny = x"


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_each_solution_translated_with_its_own_english_is_itself(path):
    nb = nbformat.read(path, as_version=4)
    units = 0
    for cell in nb.cells:
        assert translated_source(cell, lambda text: text) == cell.source
        for unit in cell_units(cell):
            assert cell.source[unit.start : unit.end] == unit.text
            units += 1
    assert units > 5
