"""reproml-course execute: outputs written back, with no one's absolute paths."""

from pathlib import Path

import nbformat
import pytest

from reproml.course.execute import execute_in_place
from reproml.course.notebooks import read_notebook, write_notebook
from reproml.errors import ReproMLError
from reproml.paths import repository_root


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_outputs_are_saved_with_paths_relative_to_the_repository(tmp_path):
    path = tmp_path / "paths.ipynb"
    write_notebook(
        notebook(
            "from pathlib import Path\nfrom reproml.paths import repository_root\n"
            "root = repository_root()\n"
            "print(root / 'outputs' / 'run.txt', root.parent / 'shared' / 'data')",
            "import sys; print('~', Path.home() / 'x', file=sys.stderr)",
            "f'sqlite:///{root}/mlflow.db'",
        ),
        path,
    )
    execute_in_place(path, quick=True)
    cells = read_notebook(path).cells
    assert cells[0].outputs[0].text == "outputs/run.txt ../shared/data\n"
    home = Path.home()
    expected = "~/x" if not str(repository_root().parent).startswith(f"{home}/") else None
    if expected:
        assert cells[1].outputs[0].text == f"~ {expected}\n"
    assert cells[2].outputs[0].data["text/plain"] == "'sqlite:///mlflow.db'"


def test_a_failing_notebook_is_left_unchanged(tmp_path):
    path = tmp_path / "broken.ipynb"
    write_notebook(notebook("x = 1", "1 / 0"), path)
    before = path.read_text()
    with pytest.raises(ReproMLError, match=r"broken\.ipynb failed, left unchanged: ZeroDivision"):
        execute_in_place(path)
    assert path.read_text() == before
