"""Chapter 03's check of the experiment preset and the --multirun sweep (3.3).

The preset must compose to exactly what the command line would give with the same choices:
``experiment=fast_sgd`` is ``model=logreg optimizer=sgd optimizer.lr=0.1 trainer.epochs=3``,
key for key. A preset that sets ``model._target_`` instead of replacing the option keeps the MLP's
sizes under a logistic regression (and Adam's betas under SGD): what chapter 03 teaches
against. Then the app runs a two-job sweep with the preset, on the check's own small data set:
each job in its own folder, with its configuration, the course's metrics for it, and the
validation accuracy returned.
"""

from __future__ import annotations

import random
import re
import tempfile
from pathlib import Path
from typing import Any

from reproml.schema import option_name
from reproml_course.checks.base import CheckFailed, exercise, expect
from reproml_course.checks.ch03_app import _app, _compose, _written
from reproml_course.checks.ch03_hydra import COURSE_ANSWERS
from reproml_course.checks.ch03_run_results import (
    _check_returned,
    _saved_config,
    expected_run,
    recorded_returns,
    recorder_overrides,
)
from reproml_course.checks.scripts import (
    command_line,
    error_summary,
    expect_same_metrics,
    read_json_object,
    run_program,
    scratch_data,
)

PRESET = "experiment=fast_sgd"
# What the preset stands for, as command-line choices.
SAME_AS = ["model=logreg", "optimizer=sgd", "optimizer.lr=0.1", "trainer.epochs=3"]
BUDGET = 300  # seconds; the solution's check takes 20 to 45 s here (2 cores, busy)


def _differences(got: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Dotted keys where two composed configurations differ."""
    if isinstance(got, dict) and isinstance(wanted, dict):
        found = []
        for key in sorted(set(got) | set(wanted), key=str):
            name = f"{prefix}{key}"
            if key not in got or key not in wanted:
                found.append(name)
            else:
                found += _differences(got[key], wanted[key], f"{name}.")
        return found
    return [] if got == wanted and type(got) is type(wanted) else [prefix.rstrip(".")]


def _check_preset(conf: Path) -> dict:
    """The preset's file and header, then its composition, key for key."""
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
        cfg = _compose(conf, [PRESET])
    except CheckFailed as failure:
        try:
            _compose(conf, [f"+{PRESET}"])
        except CheckFailed:
            raise failure from None
        raise CheckFailed(
            f"`{PRESET}` cannot be chosen from the command line: config.yaml's defaults list "
            "has no empty `experiment` slot.",
            "list the group in config.yaml's defaults with the option null, after `_self_`.",
        ) from None
    expect(
        "experiment" not in cfg,
        f"{PRESET} composes a configuration with an `experiment` key.",
        "without `# @package _global_` at the very top, Hydra puts the preset's keys under "
        "`experiment.` instead of at the top.",
    )
    wanted = _compose(conf, SAME_AS)
    differ = _differences(cfg, wanted)
    if differ:
        model, optimizer = cfg.get("model", {}), cfg.get("optimizer", {})
        summary = {
            "model": option_name("model", model) if isinstance(model, dict) else model,
            "optimizer": option_name("optimizer", optimizer)
            if isinstance(optimizer, dict)
            else optimizer,
            "lr": optimizer.get("lr") if isinstance(optimizer, dict) else None,
            "epochs": (cfg.get("trainer") or {}).get("epochs"),
        }
        leftovers = [
            key
            for key in differ
            if key.startswith(("model.", "optimizer."))
            and key.split(".", 1)[0] in cfg
            and key.split(".")[1] not in wanted.get(key.split(".", 1)[0], {})
        ]
        raise CheckFailed(
            f"{PRESET} composes {summary}"
            + (
                f", with {', '.join(leftovers)} left from the option it should have replaced"
                if leftovers
                else f"; it differs from `{' '.join(SAME_AS)}` at {', '.join(differ[:6])}"
            )
            + ".",
            "a preset replaces a group's option with `override /<group>: <option>` in its own "
            "defaults list (setting `_target_:` only changes the class of the option already "
            "chosen, keeping its parameters), then sets the values it changes, and nothing else.",
        )
    return cfg


def _check_sweep(program: Path, conf: Path) -> None:
    """A two-job sweep with the preset: every job in its folder, with its configuration, the
    course's metrics for it and its validation accuracy returned."""
    seeds = random.Random().sample([s for s in range(1, 1000) if s != 42], 2)
    overrides = [PRESET, f"seed={seeds[0]},{seeds[1]}", "trainer.progress=false"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_root = scratch_data(tmp / "data")
        composed = {
            s: _compose(conf, [PRESET, f"seed={s}", "trainer.progress=false"]) for s in seeds
        }
        expected = {s: expected_run(composed[s], data_root) for s in seeds}
        sweep, returns = tmp / "sweep", tmp / "returns.jsonl"
        shown = command_line(program, ["-m", *overrides[:2]])
        args = ["-m", *overrides, f"hydra.sweep.dir={sweep}", *recorder_overrides(returns)]
        work = tmp / "work"
        work.mkdir()
        done = run_program(
            program, args, cwd=work, what=shown, env={"REPROML_DATA_DIR": str(data_root)},
            expected_seconds=sum(seconds for _, seconds in expected.values()),
        )  # fmt: skip
        expect(
            done.returncode == 0,
            f"`{shown}` failed (exit code {done.returncode}): "
            f"{error_summary(done.stderr, program.parent)}",
            "run the same command in a terminal and read the whole error.",
        )
        jobs = sorted(p for p in sweep.iterdir() if p.is_dir()) if sweep.is_dir() else []
        found = {}
        for job in jobs:
            config = job / ".hydra" / "config.yaml"
            if config.is_file() and (job / "metrics.json").is_file():
                found[_saved_config(config).get("seed")] = job
        expect(
            set(found) == set(seeds),
            f"`{shown}` should leave 2 job folders with a config and metrics, one per seed "
            f"{sorted(seeds)}; found {len(found)} (seeds {sorted(found, key=str)}).",
            "each job of a sweep is one call of the decorated function, in its own folder: "
            "write its metrics into the folder Hydra gives this job.",
        )
        returned = recorded_returns(returns)
        for seed in seeds:
            job = found[seed]
            job_shown = f"job {job.name} of `{shown}`"
            expect(
                _saved_config(job / ".hydra" / "config.yaml") == composed[seed],
                f"the .hydra/config.yaml of {job_shown} is not what {PRESET} seed={seed} composes.",
                "let Hydra compose each job's configuration from the command line.",
            )
            metrics = read_json_object(job / "metrics.json", f"the metrics of {job_shown}")
            expect_same_metrics(
                metrics,
                expected[seed][0],
                f"{job_shown} did not train the configuration Hydra composed",
                "train with the configuration the decorated function receives.",
            )
            _check_returned(job_shown, returned.get(str(job.resolve())), expected[seed][0])


@exercise(
    "3.3", "an experiment preset, and a --multirun sweep", points=2,
    course_answers=COURSE_ANSWERS, budget=BUDGET,
)  # fmt: skip
def exercise_3_3(app: Any) -> None:
    """in a preset's own defaults list, `override /<group>: <option>` replaces the option the
    primary config chose; values below it go where the `@package` line says; a group listed as
    `<group>: null` in config.yaml's defaults list can then be chosen with `<group>=<option>`;
    `python train.py -m key=a,b other=c,d` runs every combination."""
    folder, conf = _app(app)
    _check_preset(conf)
    program = folder / "train.py"
    expect(program.is_file(), f"there is no {program}.", "write the app of exercise 3.2 first.")
    _check_sweep(program, conf)
