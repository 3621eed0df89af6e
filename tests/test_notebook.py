import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_data import write_fashion_mnist

from reproml.config import load_config
from reproml_course.chapters.notebook import (
    QUICK_ENV,
    course_data_root,
    course_folder,
    quick_mode,
    setup_course,
)


@pytest.mark.parametrize(
    ("env", "given", "expected"),
    [
        ("1", None, True),
        ("true", None, True),
        ("0", None, False),
        ("", None, False),
        ("1", False, False),
        ("0", True, True),
    ],
)
def test_the_papermill_parameter_wins_over_the_environment(monkeypatch, env, given, expected):
    monkeypatch.setenv(QUICK_ENV, env)
    assert quick_mode(given) is expected


def test_setup_passes_the_mode_and_data_to_configs_and_child_processes(
    monkeypatch, synthetic, capsys
):
    monkeypatch.setenv("REPROML_DATA_DIR", str(synthetic.root))
    monkeypatch.setenv(QUICK_ENV, "1")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    setup = setup_course()
    assert setup.quick and setup.data_root == synthetic.root.resolve()
    config = setup.config("model=mlp")
    assert (config.trainer.epochs, config.data.train_size, config.model._target_) == (
        1,
        500,
        "reproml.models.MLP",
    )
    assert config.data.root == str(synthetic.root.resolve())
    assert "quick mode" in capsys.readouterr().out
    assert os.environ.pop("MLFLOW_TRACKING_URI").startswith("sqlite:///")
    assert os.environ.pop("MLFLOW_DISABLE_TELEMETRY") == "true"
    full = setup_course(quick=False)
    assert os.environ[QUICK_ENV] == "0"
    assert full.config().trainer.epochs == load_config(["experiment=subset"]).trainer.epochs


def test_a_small_training_set_gets_the_subset_recipe_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(QUICK_ENV, "0")
    small = write_fashion_mnist(tmp_path / "small", n_train=30, n_test=10).root
    monkeypatch.setenv("REPROML_DATA_DIR", str(small))
    setup = setup_course()
    assert setup.subset and setup.training_images == 30
    assert "full mode on 30 training images: experiment=subset" in capsys.readouterr().out
    assert setup.app_overrides() == "trainer.epochs=40 trainer.batch_size=32"
    assert (setup.config().trainer.epochs, setup.config().trainer.batch_size) == (40, 32)
    # the full set (only its header is read): the default, tuned to 60,000 images
    raw = tmp_path / "full" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 3]) + (60_000).to_bytes(4, "big"))
    monkeypatch.setenv("REPROML_DATA_DIR", str(tmp_path / "full"))
    full = setup_course()
    assert not full.subset and full.training_images == 60_000 and full.app_overrides() == ""
    assert full.config().trainer.epochs == load_config([]).trainer.epochs
    assert capsys.readouterr().out.rstrip().endswith("| full mode")
    # quick mode wins over both
    assert not setup_course(quick=True).subset


def test_a_fresh_course_folder_is_empty():
    folder = course_folder("test-notebook-scratch", fresh=True)
    (folder / "old.txt").write_text("from a previous run")
    assert course_folder("test-notebook-scratch", fresh=True) == folder
    assert list(folder.iterdir()) == []
    folder.rmdir()


def test_an_offline_copy_beside_the_repository_is_used_when_data_is_empty(tmp_path, monkeypatch):
    repo, shared = tmp_path / "repo", tmp_path / "shared" / "data"
    for module in ("reproml.base.paths", "reproml_course.chapters.notebook"):
        monkeypatch.setattr(f"{module}.repository_root", lambda: repo)
    monkeypatch.delenv("REPROML_DATA_DIR", raising=False)
    assert course_data_root() == repo / "data"  # nothing anywhere: the default, to download
    write_fashion_mnist(shared, n_train=20, n_test=10)
    assert course_data_root() == shared
    (repo / "data" / "FashionMNIST" / "raw").mkdir(parents=True)  # a failed download
    assert course_data_root() == shared
    write_fashion_mnist(repo / "data", n_train=20, n_test=10)
    assert course_data_root() == repo / "data"  # the student's own copy comes first
    monkeypatch.setenv("REPROML_DATA_DIR", str(tmp_path / "mine"))
    assert course_data_root() == tmp_path / "mine"


def test_shell_commands_run_in_the_kernel_s_environment_whatever_path_jupyter_had(
    monkeypatch, synthetic, capsys
):
    """``.venv/bin/jupyter lab`` started with another Python first on PATH: after the setup,
    ``!python`` is this environment's (chapters 02 and 03 import hydra in it)."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("the tests run outside a virtual environment")
    monkeypatch.setenv("REPROML_DATA_DIR", str(synthetic.root))
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    which = "import sys; print(sys.prefix)"
    before = subprocess.run(["python3", "-c", which], capture_output=True, text=True).stdout
    assert before.strip() != sys.prefix  # the situation: another Python answers
    setup_course(quick=True)
    after = subprocess.run(
        "python -c 'import sys; print(sys.prefix)'", shell=True, capture_output=True, text=True
    )
    assert after.stdout.strip() == sys.prefix
    assert shutil.which("reproml-train") == str(Path(sys.executable).parent / "reproml-train")
