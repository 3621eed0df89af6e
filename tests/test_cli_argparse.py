"""``reproml-argparse``, called in-process through ``main(argv)`` as a notebook calls it."""

from __future__ import annotations

import re

import pytest

from reproml.config import flatten_config, load_config, validate_config
from reproml_course.cli.argparse_train import build_parser, config_from_args, main


def test_quick_run_writes_a_result_file(synthetic, tmp_path, capsys):
    results = tmp_path / "results"
    code = main(
        [
            "--quick",
            "--model",
            "logreg",
            "--data-root",
            str(synthetic.root),
            "--results-dir",
            str(results),
            "--no-progress",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    [path] = results.iterdir()
    assert path.name.startswith("model=logreg_optimizer=adam_lr=0.001_epochs=1_seed=42_")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"val_accuracy=\d\.\d{4} test_accuracy=\d\.\d{4} test_macro_f1=\d\.\d{4}", last
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "-1"], "argument --lr: must be > 0, got -1"),
        (["--lr", "abc"], "argument --lr: 'abc' is not a number"),
        (["--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
        (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
        (["--momentum", "0.9"], "--momentum applies to sgd, not adam"),
        (["--optimizer", "sgd", "--beta1", "0.8"], "--beta1 applies to adam and adamw, not sgd"),
    ],
)
def test_bad_values_exit_2_with_one_usage_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    usage, error = capsys.readouterr().err.strip().splitlines()
    assert usage.startswith("usage: reproml-argparse [options]")
    assert message in error


def test_help_shows_the_groups(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(f"\n{group}:\n" in out for group in ("model", "optimizer", "training", "data"))


def test_missing_data_is_one_line_and_status_1(tmp_path, capsys):
    code = main(["--quick", "--data-root", str(tmp_path), "--results-dir", str(tmp_path / "r")])
    assert code == 1
    assert capsys.readouterr().err.startswith("Error: Fashion-MNIST not found in")
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_the_flat_flags_default_to_what_hydra_composes():
    """Same keys and same default values: chapter 02's script runs the course's default run."""
    from_flags = flatten_config(
        validate_config(config_from_args(build_parser().parse_args([]))), exclude=("tracking",)
    )
    from_hydra = flatten_config(load_config(["tracking=txt"]), exclude=("tracking",))
    assert from_flags.items() <= from_hydra.items()
