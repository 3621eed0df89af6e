"""Chapter 03: a Hydra application of the student's own.

3.1 composes the student's ``conf/`` with Hydra's compose API and fresh overrides: each option
of a group holds only its own parameters. 3.2 runs the student's ``train.py`` as a user would,
from another folder, and compares what it saved with the course's training code on the
configuration Hydra composed. 3.3 composes the student's preset and runs a ``--multirun`` sweep.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, exercise, expect
from reproml.checks.scripts import (
    command_line,
    expect_same_metrics,
    last_lines,
    read_json_object,
    run_program,
)
from reproml.config import quick_overrides

OWN_KEYS = {"sgd": {"momentum"}, "adam": {"betas"}}  # what only that optimizer has
GROUP_FILES = [("model", "mlp"), ("model", "logreg"), ("optimizer", "sgd"), ("optimizer", "adam")]


def _app(app: Any) -> tuple[Path, Path]:
    folder = Path(app)
    expect(
        folder.is_dir() and (folder / "conf").is_dir(),
        f"{folder} has no conf/ folder.",
        "run the cells that write the application's files first.",
    )
    return folder, folder / "conf"


def _written(conf: Path, *names: str) -> None:
    """Each file exists and holds more than comments (a student notebook's stub is one)."""
    for name in names:
        path = conf / name
        expect(path.is_file(), f"there is no conf/{name}.", "run the cell that writes it.")
        lines = [line.strip() for line in path.read_text().splitlines()]
        expect(
            any(line and not line.startswith("#") for line in lines),
            f"conf/{name} is not written yet (it holds only comments).",
            "replace the `# YOUR CODE HERE` line with the file's content, then run the cell.",
        )


def _compose(conf: Path, overrides: list[str]):
    """The student's configuration, as Hydra composes it; a composition error is a failure."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    text = " ".join(overrides) or "(no overrides)"
    if not (conf / "config.yaml").is_file():
        raise CheckFailed("there is no conf/config.yaml.", "the primary config is config.yaml.")
    stub = (conf / "config.yaml").read_text()
    if "YOUR CODE HERE" in stub and "defaults" not in stub:
        raise CheckFailed("conf/config.yaml is not written yet.")
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(conf.resolve())):
            cfg = compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckFailed(
            f"Hydra cannot compose your configuration with {text}: {first}",
            "each group is a folder, each option a file in it named after the option, and "
            "config.yaml lists the default option of each group.",
        ) from None
    return OmegaConf.to_container(cfg, resolve=True)


def _defaults_list(conf: Path) -> list:
    import yaml

    try:
        loaded = yaml.safe_load((conf / "config.yaml").read_text()) or {}
    except yaml.YAMLError as error:
        raise CheckFailed(f"conf/config.yaml is not valid YAML: {error}") from None
    return loaded.get("defaults") or [] if isinstance(loaded, dict) else []


@exercise("3.1", "config groups: one folder per group, one file per option", points=3)
def exercise_3_1(app: Any) -> None:
    """conf/config.yaml starts with `defaults:` then `- data: fashion_mnist`, `- model: mlp`, ...
    and `- _self_`; conf/optimizer/sgd.yaml holds `name: sgd`, `lr:` and `momentum:`, nothing of
    Adam's; hydra.compose(config_name='config', overrides=[...]) inside
    hydra.initialize_config_dir(version_base='1.3', config_dir=...) shows the result."""
    _, conf = _app(app)
    _written(conf, "config.yaml", *(f"{g}/{o}.yaml" for g, o in GROUP_FILES))
    rng = random.Random()
    defaults = _defaults_list(conf)
    expect(
        "_self_" in defaults,
        "config.yaml's defaults list has no `_self_`.",
        "say where the values of config.yaml itself go relative to the groups; the course "
        "puts them after, so that they win.",
    )
    groups = {next(iter(d)) for d in defaults if isinstance(d, dict)}
    for group in ("data", "trainer", "model", "optimizer"):
        expect(
            group in groups,
            f"config.yaml's defaults list chooses no option of the group {group!r}.",
            "each group used by the run needs a default option.",
        )
    default = _compose(conf, [])
    expect(
        default.get("optimizer", {}).get("name") == "adam"
        and default.get("model", {}).get("name") == "mlp",
        f"by default the run should use model=mlp and optimizer=adam, got model="
        f"{default.get('model', {}).get('name')!r}, optimizer="
        f"{default.get('optimizer', {}).get('name')!r}.",
        "the defaults list chooses the default option of each group.",
    )
    expect(
        isinstance(default.get("seed"), int),
        "the configuration has no integer `seed` at its top level.",
        "values that belong to no group go in config.yaml itself.",
    )
    lr = rng.choice([0.02, 0.07, 0.3])
    for name, own in OWN_KEYS.items():
        cfg = _compose(conf, [f"optimizer={name}", f"optimizer.lr={lr}"])
        optimizer = cfg.get("optimizer", {})
        expect(
            optimizer.get("name") == name and optimizer.get("lr") == lr,
            f"optimizer={name} optimizer.lr={lr} composes to {optimizer}.",
            "each option file sets `name` (the optimizer the course builds) and `lr`.",
        )
        others = set().union(*(k for n, k in OWN_KEYS.items() if n != name))
        expect(
            own <= set(optimizer) and not others & set(optimizer),
            f"optimizer={name} composes to {optimizer}: it should have "
            f"{', '.join(sorted(own))} and none of {', '.join(sorted(others))}.",
            "an option holds only its own parameters: that is what chapter 02's flat "
            "namespace could not do.",
        )
    logreg = _compose(conf, ["model=logreg"])["model"]
    expect(
        logreg == {"name": "logreg"},
        f"model=logreg composes to {logreg}: a logistic regression has no parameters.",
        "the option file holds only its name.",
    )
    from reproml.config import validate_config
    from reproml.errors import ConfigError

    hidden = [rng.choice([32, 64, 96])]
    try:
        validate_config(_compose(conf, [f"model.hidden_sizes={hidden}"]))
    except ConfigError as error:
        raise CheckFailed(
            f"the composed configuration is not one the course can run: {error}"
        ) from None


@exercise("3.2", "a Hydra application: @hydra.main", points=3)
def exercise_3_2(app: Any) -> None:
    """@hydra.main(version_base='1.3', config_path='conf', config_name='config') on def main(cfg:
    DictConfig) -> float; reproml.training.train(cfg);
    hydra.core.hydra_config.HydraConfig.get().runtime.output_dir is this run's folder; call
    main() under `if __name__ == '__main__':`."""
    from reproml.training import train

    folder, conf = _app(app)
    program = folder / "train.py"
    expect(program.is_file(), f"there is no {program}.", "run the cell that writes it.")
    rng = random.Random()
    overrides = [
        "optimizer=sgd",
        f"optimizer.lr={rng.choice([0.02, 0.05, 0.1])}",
        f"optimizer.momentum={rng.choice([0.5, 0.8])}",
        f"model.hidden_sizes=[{rng.choice([32, 64, 96])}]",
        f"seed={rng.randint(0, 9999)}",
        *quick_overrides(),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        args = [*overrides, f"hydra.run.dir={run_dir}"]
        shown = command_line(program, overrides)
        # From another folder than the app's; with warnings, to see Hydra's about version_base.
        done = run_program(program, args, cwd=Path(tmp), what=shown, warnings=True)
        expect(
            done.returncode == 0,
            f"`{shown}` failed (exit code {done.returncode}): {last_lines(done.stderr)}",
            "run the same command in a terminal and read the whole error.",
        )
        expect(
            "version_base" not in done.stderr,
            "Hydra warns that version_base is not set: the app then runs with Hydra 1.1's "
            "old behaviour (it changes the working directory, among other things).",
            "say which Hydra behaviour the app was written for, in the decorator.",
        )
        expect(
            (run_dir / ".hydra" / "config.yaml").is_file(),
            f"`{shown}` left no .hydra/config.yaml in the run's folder.",
            "the app must be run through Hydra's decorator, which saves the configuration.",
        )
        saved = _saved_config(run_dir / ".hydra" / "config.yaml")
        expected = _compose(conf, overrides)
        expect(
            saved == expected,
            "the .hydra/config.yaml of the run is not the configuration these overrides compose.",
            "let Hydra compose the configuration from the command line.",
        )
        metrics = read_json_object(
            run_dir / "metrics.json",
            "the metrics of the run",
            "with version_base='1.3' Hydra does not change the working directory: ask it where "
            "this run's folder is.",
        )
        expect_same_metrics(
            metrics,
            train(expected).metrics,
            f"`{shown}` did not train the configuration Hydra composed",
            "train with the configuration the decorated function receives, not one of your own.",
        )


def _saved_config(path: Path) -> dict:
    """A run's .hydra/config.yaml, interpolations resolved where they can be."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    saved = OmegaConf.load(path)
    try:
        return OmegaConf.to_container(saved, resolve=True)
    except OmegaConfBaseException:  # e.g. ${hydra:...}, which only a running app resolves
        return OmegaConf.to_container(saved)
