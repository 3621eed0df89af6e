"""reproml-course execute: outputs written back, with no one's absolute paths."""

from pathlib import Path

import nbformat
import pytest

from reproml.base.errors import ReproMLError
from reproml.base.paths import repository_root
from reproml_course.authoring.execute import WIDGET, execute_in_place
from reproml_course.base.notebooks import read_notebook, write_notebook


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_outputs_are_saved_with_paths_relative_to_the_repository(tmp_path):
    path = tmp_path / "paths.ipynb"
    write_notebook(
        notebook(
            "from pathlib import Path\nfrom reproml.base.paths import repository_root\n"
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


def test_progress_bars_are_not_kept_in_the_outputs():
    from reproml_course.authoring.execute import without_progress_bars

    nb = notebook("bars")
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/plain": "  0%|          | 0/10", WIDGET: {"model_id": "x"}},
        ),
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text="epoch 1/3:   0%|    | 0/4896 [00:00<?, ?img/s]\n"
            "epoch 1/3:  50%|██  | 2448/4896 [00:03<00:03, 755.95img/s, acc=0.7]\n"
            "val_accuracy=0.8 test_accuracy=0.7\n",
        ),
        nbformat.v4.new_output("stream", name="stdout", text="step 1\rstep 2\rdone\r\n"),
        nbformat.v4.new_output("stream", name="stderr", text="\r\r"),
        nbformat.v4.new_output("stream", name="stdout", text="kept: 50% | of 2/4 runs\n"),
    ]
    nb.cells.append(nbformat.v4.new_markdown_cell("text"))
    outputs = without_progress_bars(nb).cells[0].outputs
    assert "outputs" not in nb.cells[1]  # a markdown cell has none, and must not get any
    assert [o.text for o in outputs] == [
        "val_accuracy=0.8 test_accuracy=0.7\n",
        "done\n",
        "kept: 50% | of 2/4 runs\n",
    ]


def test_the_kernel_is_told_its_notebook_as_jupyter_tells_it(tmp_path):
    """So a run logged from an executed chapter names the chapter as its source (MLflow's
    ``mlflow.source.name``), as from JupyterLab, not ``ipykernel_launcher.py``."""
    path = tmp_path / "named.ipynb"
    cell = "from reproml.tracking.record import run_source\nprint(run_source()['command'])"
    write_notebook(notebook(cell), path)
    execute_in_place(path)
    assert read_notebook(path).cells[0].outputs[0]["text"] == f"{path.resolve()}\n"
