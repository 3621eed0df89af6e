"""What a run logs (reproml.tracking.record)."""

from __future__ import annotations

import pytest


def test_a_data_set_created_by_another_process_meanwhile_is_logged_on_the_next_try(monkeypatch):
    """Two runs starting together both insert the same data set; MLflow's second insert breaks
    the unique key (seen with two search workers). The retry finds the other's row."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from reproml.tracking.record import log_input_once

    calls = []

    def racing(dataset, context):
        calls.append(context)
        if len(calls) == 1:
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets")

    monkeypatch.setattr(mlflow, "log_input", racing)
    log_input_once(object(), "training")
    assert calls == ["training", "training"]

    def broken(dataset, context):
        raise MlflowException("no such experiment")

    monkeypatch.setattr(mlflow, "log_input", broken)
    with pytest.raises(MlflowException, match="no such experiment"):
        log_input_once(object(), "training")


def test_a_script_is_its_own_source_with_its_command_line(monkeypatch):
    from reproml.tracking.record import run_source

    monkeypatch.setattr("sys.argv", ["/venv/bin/reproml-train", "model=mlp"])
    assert run_source("ignored.ipynb") == {
        "mlflow.source.name": "reproml-train",
        "mlflow.source.type": "LOCAL",
        "command": "reproml-train model=mlp",
    }


@pytest.mark.parametrize(
    ("notebook", "session", "source"),
    [
        ("experiment.ipynb", None, "experiment.ipynb"),  # papermill: the notebook says so
        (None, "notebooks/04_mlflow.ipynb", "notebooks/04_mlflow.ipynb"),  # JupyterLab
        ("experiment.ipynb", "notebooks/05_papermill_sweeps.ipynb", "experiment.ipynb"),
    ],
)
def test_a_kernel_names_its_notebook_not_its_connection_file(
    notebook, session, source, monkeypatch
):
    """A kernel started by papermill from chapter 05's notebook inherits that notebook's
    $JPY_SESSION_NAME: the notebook the configuration names comes first."""
    from reproml.base.paths import repository_root
    from reproml.tracking.record import run_source

    monkeypatch.setattr("sys.argv", ["/venv/ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])
    if session:
        monkeypatch.setenv("JPY_SESSION_NAME", str(repository_root() / session))
    else:
        monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    tags = run_source(notebook)
    assert tags == {
        "mlflow.source.name": source,
        "mlflow.source.type": "NOTEBOOK",
        "command": source,
    }


def test_an_unnamed_notebook_says_so_rather_than_a_temporary_file(monkeypatch):
    from reproml.tracking.record import run_source

    monkeypatch.setattr("sys.argv", ["/venv/ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    tags = run_source()
    assert "tracking.notebook" in tags["mlflow.source.name"]
    assert "kernel-1.json" not in tags["command"]


def test_in_a_real_kernel_the_source_is_the_notebook_jupyterlab_names(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from reproml_course.base.notebooks import KERNELSPEC

    cell = "from reproml.tracking.record import run_source\nprint(run_source()['command'])"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = KERNELSPEC
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "mine.ipynb"))  # as Jupyter's server
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"] == f"{tmp_path / 'mine.ipynb'}\n"
