"""Chapter 03's check of the experiment preset and the --multirun sweep (3.3)."""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, exercise, expect
from reproml.checks.ch03_hydra import _app, _compose, _written
from reproml.checks.scripts import (
    command_line,
    last_lines,
    run_program,
)
from reproml.config import quick_overrides


@exercise("3.3", "an experiment preset, and a --multirun sweep", points=2)
def exercise_3_3(app: Any) -> None:
    """in a preset's own defaults list, `override /<group>: <option>` replaces the option the
    primary config chose; values below it go where the `@package` line says; a group listed as
    `<group>: null` in config.yaml's defaults list can then be chosen with `<group>=<option>`;
    `python train.py -m key=a,b other=c,d` runs every combination."""
    folder, conf = _app(app)
    preset = conf / "experiment" / "fast_sgd.yaml"
    expect(
        preset.is_file(),
        "there is no experiment/fast_sgd.yaml in conf/.",
        "a preset is an option of the group `experiment`.",
    )
    _written(conf, "experiment/fast_sgd.yaml")
    header = []  # Hydra's rule: `# @key value` lines at the very top (blank lines skipped)
    for line in preset.read_text().splitlines():
        if not line.strip():
            continue
        if not re.match(r"\s*#\s*@", line):
            break
        header.append(" ".join(line.lstrip("# ").split()))
    expect(
        "@package _global_" in header,
        "experiment/fast_sgd.yaml does not start with `# @package _global_` (Hydra reads it "
        "only before any other line, comment or not).",
        "without it, Hydra puts the preset's keys under `experiment.` instead of at the top.",
    )
    try:
        cfg = _compose(conf, ["experiment=fast_sgd"])
    except CheckFailed:
        cfg = _compose(conf, ["+experiment=fast_sgd"])
    got = {
        "model": cfg.get("model", {}).get("name"),
        "optimizer": cfg.get("optimizer", {}).get("name"),
        "lr": cfg.get("optimizer", {}).get("lr"),
        "epochs": cfg.get("trainer", {}).get("epochs"),
    }
    wanted = {"model": "logreg", "optimizer": "sgd", "lr": 0.1, "epochs": 3}
    expect(
        got == wanted and "experiment" not in cfg,
        f"experiment=fast_sgd composes to {got}"
        + (" with an `experiment` key" if "experiment" in cfg else "")
        + f"; expected {wanted}.",
        "a preset changes several groups at once: it replaces their options (override) and "
        "then sets values, at the top level of the configuration.",
    )
    _check_sweep(folder / "train.py")


def _check_sweep(program: Path) -> None:
    rng = random.Random()
    seeds = rng.sample(range(1000), 2)
    overrides = ["optimizer=sgd,adam", f"seed={seeds[0]},{seeds[1]}", "model=logreg"]
    overrides += quick_overrides()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep"
        shown = command_line(program, ["-m", *overrides[:2]])
        done = run_program(
            program, ["-m", *overrides, f"hydra.sweep.dir={sweep}"], cwd=Path(tmp), what=shown
        )
        expect(
            done.returncode == 0,
            f"`{shown}` failed (exit code {done.returncode}): {last_lines(done.stderr)}",
        )
        import yaml

        jobs = sorted(p for p in sweep.iterdir() if p.is_dir()) if sweep.is_dir() else []
        combos = set()
        for job in jobs:
            config = job / ".hydra" / "config.yaml"
            if config.is_file() and (job / "metrics.json").is_file():
                saved = yaml.safe_load(config.read_text())
                combos.add((saved["optimizer"]["name"], saved["seed"]))
        wanted = {(o, s) for o in ("sgd", "adam") for s in seeds}
        expect(
            combos == wanted,
            f"`{shown}` should leave 4 job folders with a config and metrics, one per "
            f"combination {sorted(wanted)}; found {sorted(combos)}.",
            "each job of a sweep is one call of the decorated function, in its own folder.",
        )
