"""``reproml-train`` run as a user runs it: a subprocess, with Hydra writing into tmp_path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reproml.metrics import format_metrics

METRICS_LINE = re.compile(r"val_accuracy=\d\.\d{4} test_accuracy=\d\.\d{4} test_macro_f1=\d\.\d{4}")
QUICK = [
    "experiment=quick",
    "trainer.progress=false",
    "trainer.device=cpu",
    "data.download=false",
    "tracking=none",
]


def reproml_train(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reproml.cli.train", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.fixture
def run_quick(synthetic, tmp_path):
    def run(*overrides: str) -> subprocess.CompletedProcess[str]:
        return reproml_train(
            *QUICK, f"data.root={synthetic.root}", f"hydra.run.dir={tmp_path / 'run'}", *overrides
        )

    return run


def test_quick_run_prints_metrics_last_and_saves_its_config(run_quick, tmp_path):
    done = run_quick("model=mlp", "optimizer=sgd", "optimizer.lr=0.05")
    assert done.returncode == 0, done.stderr
    assert METRICS_LINE.fullmatch(done.stdout.strip().splitlines()[-1])
    saved = yaml.safe_load((tmp_path / "run" / ".hydra" / "config.yaml").read_text())
    assert saved["model"]["_target_"] == "reproml.models.MLP"
    assert saved["scheduler"] == {"_target_": "reproml.schedules.cosine", "_partial_": True}
    assert saved["optimizer"] == {
        "_target_": "torch.optim.SGD",
        "_partial_": True,
        "lr": 0.05,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "nesterov": False,
    }
    overrides = (tmp_path / "run" / ".hydra" / "overrides.yaml").read_text()
    assert "optimizer.lr=0.05" in overrides
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert format_metrics(metrics) == done.stdout.strip().splitlines()[-1]


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_missing_data_is_one_line_and_a_non_zero_exit(tmp_path):
    done = reproml_train(
        *QUICK, f"data.root={tmp_path / 'empty'}", f"hydra.run.dir={tmp_path / 'run'}"
    )
    line = one_line_error(done)
    assert line.startswith("Error: Fashion-MNIST not found in")
    assert "train-images-idx3-ubyte" in line and "t10k-labels-idx1-ubyte" in line


def test_bad_value_is_one_line_and_a_non_zero_exit(run_quick):
    line = one_line_error(run_quick("optimizer.lr=-0.1"))
    assert line == "Error: Invalid configuration: optimizer.lr must be a number > 0, got -0.1."


def test_an_unknown_target_is_one_line_naming_the_courses_options(run_quick):
    line = one_line_error(run_quick("model._target_=reproml.models.ResNet"))
    assert line.startswith("Error: Cannot build model 'reproml.models.ResNet'")
    assert "cnn (reproml.models.CNN)" in line


def test_unknown_option_lists_the_available_ones(run_quick):
    done = run_quick("model=resnet")
    assert done.returncode != 0
    assert "Could not find 'model/resnet'" in done.stderr
    assert "logreg" in done.stderr and "cnn" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_multirun_sweeps_every_combination(synthetic, tmp_path, launcher):
    """joblib runs the jobs in parallel worker processes; the results must be the same set."""
    sweep = tmp_path / "sweep"
    done = reproml_train(
        "-m",
        f"hydra/launcher={launcher}",
        "optimizer=sgd,adam",
        "model=logreg,mlp",
        *QUICK,
        f"data.root={synthetic.root}",
        f"hydra.sweep.dir={sweep}",
    )
    assert done.returncode == 0, done.stderr
    assert len(METRICS_LINE.findall(done.stdout)) == 4
    saved = [yaml.safe_load(p.read_text()) for p in sorted(sweep.glob("*/.hydra/config.yaml"))]
    combos = {(c["optimizer"]["_target_"], c["model"]["_target_"]) for c in saved}
    assert combos == {
        (f"torch.optim.{o}", f"reproml.models.{m}")
        for o in ("SGD", "Adam")
        for m in ("LogisticRegression", "MLP")
    }


@pytest.mark.slow
def test_two_cli_runs_print_identical_metrics(run_quick):
    first, second = run_quick(), run_quick()
    assert first.returncode == second.returncode == 0
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "reproml-train"
    assert script.exists()


def test_unwritable_output_folder_is_one_line_and_creates_nothing(run_quick, tmp_path):
    (tmp_path / "blocker").write_text("a file where the output folder should go")
    line = one_line_error(run_quick(f"hydra.run.dir={tmp_path / 'blocker' / 'run'}"))
    assert line.startswith(f"Error: Cannot create the output folder {tmp_path / 'blocker'}")
    assert line.endswith("Choose another one with hydra.run.dir=PATH.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
