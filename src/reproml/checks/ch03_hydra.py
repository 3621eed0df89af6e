"""Chapter 03: Hydra."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

import yaml

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.errors import ReproMLError

WIDE_CNN = {"name": "cnn", "channels": [64, 128], "hidden": 256, "dropout": 0.3}


@exercise("3.2", "add a config group option: model=wide_cnn", points=2)
def exercise_3_2(add_wide_cnn: Any) -> None:
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    from reproml.config import load_config, validate_config
    from reproml.models import build_model

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "my_conf"
        conf.mkdir()
        call(add_wide_cnn, conf, what="add_wide_cnn(conf_dir)")
        option = conf / "model" / "wide_cnn.yaml"
        expect(
            option.is_file(),
            f"no file model/wide_cnn.yaml in the folder given; it holds "
            f"{sorted(str(p.relative_to(conf)) for p in conf.rglob('*'))}.",
            "an option of the group `model` is a file in the folder `model/` named after it.",
        )
        try:
            cfg = load_config([f"hydra.searchpath=[file://{conf}]", "model=wide_cnn"])
        except HydraException as error:
            raise CheckFailed(
                f"Hydra cannot compose model=wide_cnn: {error}".replace("\n", " "),
                "the file must hold the model's keys only, with no `model:` line on top.",
            ) from None
        model = OmegaConf.to_container(cfg.model)
        expect(
            model == WIDE_CNN,
            f"model=wide_cnn composes to {model}, expected {WIDE_CNN}.",
            "one key per line, like conf/model/cnn.yaml, with the values asked for.",
        )
        try:
            validate_config(cfg)
            build_model(cfg.model)
        except ReproMLError as error:
            raise CheckFailed(f"the option composes but cannot be used: {error}") from None


@exercise("3.1", "read a Hydra sweep folder into a table", points=2)
def exercise_3_1(sweep_table: Any) -> None:
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "multirun" / "2026-11-23" / "10-00-00"
        expected = []
        jobs = [(m, o) for m in ("logreg", "mlp", "cnn") for o in ("sgd", "adam")]
        rng.shuffle(jobs)
        for number, (model, optimizer) in enumerate(jobs[: rng.randint(3, 6)]):
            job = sweep / str(number)
            (job / ".hydra").mkdir(parents=True)
            lr = rng.choice([0.1, 0.01, 0.001])
            config = {
                "model": {"name": model},
                "optimizer": {"name": optimizer, "lr": lr},
                "seed": 42,
            }
            (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
            accuracy = round(rng.uniform(0.5, 0.9), 4)
            (job / "metrics.json").write_text(json.dumps({"test_accuracy": accuracy}))
            expected.append((model, optimizer, lr, accuracy))
        (sweep / "multirun.yaml").write_text("hydra: {}\n")
        crashed = sweep / str(len(expected))  # a job that crashed: config but no metrics
        (crashed / ".hydra").mkdir(parents=True)
        (crashed / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))

        table = call(sweep_table, sweep, what="sweep_table(sweep_dir)")
        columns = ["model", "optimizer", "lr", "test_accuracy"]
        expect(
            hasattr(table, "columns") and all(c in table.columns for c in columns),
            f"the table should have the columns {columns}, got "
            f"{list(getattr(table, 'columns', []))}.",
            "build one dict per job with those keys, then pandas.DataFrame(rows).",
        )
        rows = sorted(tuple(row) for row in table[columns].itertuples(index=False))
        expect(
            len(rows) == len(expected),
            f"the table has {len(rows)} rows for {len(expected)} finished jobs.",
            "one row per job folder that has a metrics.json; skip a job that crashed (no "
            "metrics.json) and files such as multirun.yaml.",
        )
        expect(
            rows == sorted(expected),
            f"the rows do not match the jobs' files: got {rows[:2]}..., "
            f"expected {sorted(expected)[:2]}...",
            "model.name and optimizer.name/lr come from .hydra/config.yaml, test_accuracy "
            "from metrics.json.",
        )
