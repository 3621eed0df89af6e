import argparse
import json
from pathlib import Path

import pandas as pd
import yaml

from reproml.cli import argparse_train


def with_flag(type_):
    def build_parser():
        parser = argparse_train.build_parser()
        parser.add_argument("--val-fraction", type=type_, default=0.1)
        return parser

    return build_parser


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("out of range")
    return value


def test_val_fraction_flag(evaluate):
    assert evaluate("2.1", with_flag(fraction)) == (True, "passed")
    passed, message = evaluate("2.1", with_flag(float))  # no range check
    assert not passed and "strictly between 0 and 1" in message
    assert "no `val_fraction`" in evaluate("2.1", argparse_train.build_parser)[1]


def test_save_and_load_args(evaluate):
    def save(args, path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(vars(args)))

    def load(path):
        return argparse.Namespace(**json.loads(Path(path).read_text()))

    def save_without_folder(args, path):
        Path(path).write_text(json.dumps(vars(args)))

    assert evaluate("2.2", save, load) == (True, "passed")
    assert "raised FileNotFoundError" in evaluate("2.2", save_without_folder, load)[1]
    assert "should return an argparse.Namespace" in evaluate("2.2", save, lambda p: {})[1]


def test_wide_cnn_option(evaluate):
    def write(text):
        def add(conf_dir):
            (Path(conf_dir) / "model").mkdir()
            (Path(conf_dir) / "model" / "wide_cnn.yaml").write_text(text)

        return add

    right = "name: cnn\nchannels: [64, 128]\nhidden: 256\ndropout: 0.3\n"
    assert evaluate("3.2", write(right)) == (True, "passed")
    nested = "model:\n" + "".join(f"  {line}\n" for line in right.splitlines())
    assert "composes to" in evaluate("3.2", write(nested))[1]
    assert "no file model/wide_cnn.yaml" in evaluate("3.2", lambda conf_dir: None)[1]


def test_sweep_table(evaluate):
    def right(sweep_dir):
        rows = []
        for job in sorted(Path(sweep_dir).iterdir()):
            if (job / "metrics.json").is_file():
                config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
                accuracy = json.loads((job / "metrics.json").read_text())["test_accuracy"]
                optimizer = config["optimizer"]
                rows.append((config["model"]["name"], optimizer["name"], optimizer["lr"], accuracy))
        return pd.DataFrame(rows, columns=["model", "optimizer", "lr", "test_accuracy"])

    def keeps_crashed_jobs(sweep_dir):
        table = right(sweep_dir)
        return pd.concat([table, table.iloc[:1]])

    assert evaluate("3.1", right) == (True, "passed")
    assert "skip a job that crashed" in evaluate("3.1", keeps_crashed_jobs)[1]
