"""Chapter 03: a Hydra application of the student's own.

3.1 reads the defaults list of the student's ``conf/config.yaml`` (the groups, then ``_self_``,
then the empty ``experiment`` slot) and composes the configuration with Hydra's compose API:
every option holds exactly its own parameters with the values the exercise gives (the course's
option may add its own neutral ones), the top level only the groups and the seed.

3.2 runs the student's ``train.py`` as a user would, from another folder, on a small data set of
the check's own (``scripts.scratch_data``): once as a single run and once as a job of a
``--multirun`` sweep, with fresh overrides of every group that differ between the two. Each run
must save the configuration these overrides compose, write the metrics of the course's
training on it into the run's own folder, and return the validation accuracy (what a sweeper
optimises), which a Hydra callback of the check's records.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from reproml_course.checks.base import CheckFailed, exercise, expect
from reproml_course.checks.scripts import (
    command_line,
    error_summary,
    expect_same_metrics,
    read_json_object,
    run_program,
    scratch_data,
)

GROUP_FILES = [("model", "mlp"), ("model", "logreg"), ("optimizer", "sgd"), ("optimizer", "adam")]
# What each option holds, as the exercise gives it.
OPTIONS = {
    ("model", "mlp"): {"name": "mlp", "hidden_sizes": [256, 128], "dropout": 0.2},
    ("model", "logreg"): {"name": "logreg"},
    ("optimizer", "sgd"): {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    ("optimizer", "adam"): {"name": "adam", "lr": 0.001, "betas": [0.9, 0.999]},
}
GROUPS = {"data": "fashion_mnist", "trainer": "default", "model": "mlp", "optimizer": "adam"}
TOP_LEVEL = {*GROUPS, "seed"}
# The course's own Hydra entry point: an app that calls it writes none of its own.
COURSE_ANSWERS = ("reproml.cli.train",)
BUDGET_CONFIG = 60  # seconds; 3.1 composes a few times (about 2 s here)
BUDGET_APP = 400  # seconds; 3.2 runs the app twice and trains twice itself (23 to 75 s here)


class ReturnRecorder(Callback):
    """A Hydra callback the checks add to a student's run (``hydra.callbacks``): it appends what
    each job's function returned to a JSON-lines file, since Hydra itself keeps it nowhere."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        value = job_return._return_value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        record = {
            "folder": str(config.hydra.runtime.output_dir),
            "status": getattr(job_return.status, "name", str(job_return.status)),
            "type": type(value).__name__,
            "value": float(value) if number else None,
        }
        with self.path.open("a") as file:
            file.write(json.dumps(record) + "\n")


def recorder_overrides(path: Path) -> list[str]:
    """The command-line overrides that add ``ReturnRecorder``, writing to ``path``."""
    key = "++hydra.callbacks.reproml_check_return"
    return [f"{key}._target_={ReturnRecorder.__module__}.ReturnRecorder", f"{key}.path={path}"]


def recorded_returns(path: Path) -> dict[str, dict]:
    """{run folder (resolved): record} of what ``ReturnRecorder`` wrote."""
    if not path.is_file():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {str(Path(r["folder"]).resolve()): r for r in records}


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
    found = loaded.get("defaults") if isinstance(loaded, dict) else None
    return found if isinstance(found, list) else []


def _check_defaults_list(conf: Path) -> None:
    """The groups, then ``_self_`` (config.yaml's own values win over the groups'), then the
    empty slot ``experiment: null`` (a preset wins over config.yaml)."""
    defaults = _defaults_list(conf)
    where: dict[str, int] = {}
    chosen: dict[str, Any] = {}
    for index, entry in enumerate(defaults):
        if entry == "_self_":
            where["_self_"] = index
        elif isinstance(entry, dict) and len(entry) == 1:
            (group, option), = entry.items()  # fmt: skip
            group = str(group).removeprefix("override ").strip().lstrip("/")
            where.setdefault(group, index)
            chosen.setdefault(group, option)
    expect(
        "_self_" in where,
        "config.yaml's defaults list has no `_self_`.",
        "say where the values of config.yaml itself go relative to the groups; the course "
        "puts them after, so that they win.",
    )
    for group in GROUPS:
        expect(
            group in where,
            f"config.yaml's defaults list chooses no option of the group {group!r}.",
            "each group used by the run needs a default option.",
        )
    before = [g for g in GROUPS if where[g] > where["_self_"]]
    expect(
        not before,
        f"in config.yaml's defaults list, `_self_` comes before {', '.join(before)}: the "
        "options of those groups would then win over the values config.yaml sets itself.",
        "the list is applied in order, each entry over the ones before it: the course puts "
        "`_self_` after the groups.",
    )
    expect(
        "experiment" in where and chosen["experiment"] is None,
        "config.yaml's defaults list has no empty `experiment` slot (`experiment: null`), "
        "so `experiment=<preset>` cannot choose a preset from the command line."
        if "experiment" not in where
        else f"config.yaml's defaults list chooses experiment: {chosen['experiment']!r}; "
        "by default a run uses no preset.",
        "a group listed with the option null is empty until the command line chooses one.",
    )
    expect(
        where["experiment"] > where["_self_"],
        "in config.yaml's defaults list, `experiment` comes before `_self_`: a preset's values "
        "would then lose to config.yaml's own.",
        "a preset changes several groups at once and must win over everything before it: it "
        "goes last.",
    )


def _check_option(group: str, option: str, got: Any) -> None:
    """An option composes to exactly the keys and values the exercise lists: not even a
    neutral extra one (SGD's weight_decay: 0.0, copied from the course's conf/), since the
    exercise says "nothing else"."""
    wanted = OPTIONS[group, option]
    what = f"{group}={option}"
    expect(
        isinstance(got, dict),
        f"{what} composes {group} to {got!r}, not a set of keys.",
        "an option file holds `key: value` lines: Hydra puts them under the group's name.",
    )
    others = {
        key: other
        for (g, other), keys in OPTIONS.items()
        if g == group and other != option
        for key in keys
        if key not in wanted
    }
    foreign = [key for key in got if key in others]
    if foreign:
        whose = (
            "a logistic regression has no parameters"
            if option == "logreg"
            else f"{foreign[0]} is {others[foreign[0]]}'s"
        )
        raise CheckFailed(
            f"{what} composes to {got}: it should have "
            f"{', '.join(sorted(set(wanted) - {'name'})) or 'only its name'} and none of "
            f"{', '.join(foreign)} ({whose}).",
            "an option holds only its own parameters: that is what chapter 02's flat "
            "namespace could not do.",
        )
    missing = [key for key in wanted if key not in got]
    expect(
        not missing,
        f"{what} composes to {got}: it has no {', '.join(missing)}.",
        f"conf/{group}/{option}.yaml holds each parameter of its option, with the value the "
        "exercise gives.",
    )
    unknown = [k for k in got if k not in wanted]
    expect(
        not unknown,
        f"{what} composes to {got}: {', '.join(unknown)} "
        + ("is not a parameter" if len(unknown) == 1 else "are not parameters")
        + " the exercise gives it.",
        f"conf/{group}/{option}.yaml holds exactly {', '.join(wanted)}, nothing else: a key "
        "the optimizer or model does not take fails when the run starts, and one that it "
        "takes belongs on the command line (or in a preset) when a run needs it.",
    )
    for key, value in wanted.items():
        have = got[key]
        same_type = type(have) is type(value) or (
            isinstance(value, float) and type(have) is int and have == value
        )
        expect(
            same_type,
            f"{what} has {key}={have!r} ({type(have).__name__}), where the exercise gives "
            f"a {type(value).__name__}.",
            "in YAML a list is written in square brackets, [a, b], and a number without quotes.",
        )
        expect(
            have == value,
            f"{what} has {key}={have!r}; the exercise gives another value.",
            "each option file holds the values the exercise lists: they are the defaults "
            "every run starts from.",
        )


def _check_composed(conf: Path, cfg: dict, text: str) -> None:
    """The top level: the groups and the seed, nothing else; data and trainer as their files."""
    from omegaconf import OmegaConf

    extra = sorted(set(cfg) - TOP_LEVEL)
    missing = sorted(TOP_LEVEL - set(cfg))
    expect(
        not missing,
        f"{text} composes a configuration with no {', '.join(missing)} at its top level.",
        "values that belong to no group (the seed) go in config.yaml itself, after the "
        "defaults list.",
    )
    expect(
        not extra,
        f"{text} composes a configuration with {', '.join(extra)} at its top level, besides "
        "the groups and the seed.",
        "a group's values belong in its option files, under the group's folder.",
    )
    expect(
        isinstance(cfg["seed"], int) and not isinstance(cfg["seed"], bool) and cfg["seed"] == 42,
        f"{text} composes seed={cfg['seed']!r}, not the integer the exercise gives.",
        "values that belong to no group go in config.yaml itself.",
    )
    for group in ("data", "trainer"):
        path = conf / group / f"{GROUPS[group]}.yaml"
        own = OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else None
        expect(
            cfg[group] == own,
            f"{text} composes {group} to something else than conf/{group}/{GROUPS[group]}.yaml "
            "holds.",
            "config.yaml chooses the option of each group; it does not change its values.",
        )


@exercise(
    "3.1", "config groups: one folder per group, one file per option", points=3,
    budget=BUDGET_CONFIG,
)  # fmt: skip
def exercise_3_1(app: Any) -> None:
    """conf/config.yaml starts with `defaults:` then `- data: fashion_mnist`, `- model: mlp`, ...,
    `- _self_` and `- experiment: null`; conf/optimizer/sgd.yaml holds `name: sgd`, `lr:` and
    `momentum:`, nothing of Adam's; a list in YAML is `[256, 128]`;
    hydra.compose(config_name='config', overrides=[...]) inside
    hydra.initialize_config_dir(version_base='1.3', config_dir=...) shows the result."""
    from reproml.config import validate_config
    from reproml.errors import ConfigError

    _, conf = _app(app)
    _written(conf, "config.yaml", *(f"{g}/{o}.yaml" for g, o in GROUP_FILES))
    _check_defaults_list(conf)
    default = _compose(conf, [])
    got = (default.get("model", {}).get("name"), default.get("optimizer", {}).get("name"))
    expect(
        got == ("mlp", "adam"),
        f"by default the run should use model=mlp and optimizer=adam, got model={got[0]!r}, "
        f"optimizer={got[1]!r}.",
        "the defaults list chooses the default option of each group.",
    )
    _check_composed(conf, default, "the default run")
    _check_option("model", "mlp", default["model"])
    _check_option("optimizer", "adam", default["optimizer"])
    other = _compose(conf, ["model=logreg", "optimizer=sgd"])
    _check_composed(conf, other, "model=logreg optimizer=sgd")
    _check_option("model", "logreg", other["model"])
    _check_option("optimizer", "sgd", other["optimizer"])
    # Fresh values through the command line, as a run would get them, then the course's rules.
    rng = random.Random()
    lr, momentum = rng.choice([0.02, 0.07, 0.3]), rng.choice([0.5, 0.8])
    hidden, seed = rng.sample([32, 64, 96, 160], rng.choice([1, 3])), rng.randint(0, 9999)
    overrides = ["optimizer=sgd", f"optimizer.lr={lr}", f"optimizer.momentum={momentum}",
                 f"model.hidden_sizes=[{','.join(map(str, hidden))}]", f"seed={seed}"]  # fmt: skip
    fresh = _compose(conf, overrides)
    expect(
        fresh["optimizer"].get("lr") == lr
        and fresh["optimizer"].get("momentum") == momentum
        and fresh["model"].get("hidden_sizes") == hidden
        and fresh["seed"] == seed,
        f"{' '.join(overrides)} composes to optimizer={fresh['optimizer']}, "
        f"model={fresh['model']}, seed={fresh['seed']}.",
        "each value sits under its group's name, where the command line's `group.key=value` "
        "finds it.",
    )
    for cfg, text in ((default, "the default run"), (fresh, " ".join(overrides))):
        try:
            validate_config(cfg)
        except ConfigError as error:
            raise CheckFailed(
                f"{text} composes a configuration the course cannot run: {error}"
            ) from None


def expected_run(composed: dict, data_root: Path) -> tuple[dict[str, float], float]:
    """The metrics of the course's training on a composed configuration (on the check's
    data), and the seconds it took here: how long the student's run may take, roughly."""
    import copy
    import time

    from reproml.training import train

    config = copy.deepcopy(composed)
    config["data"]["root"] = str(data_root)
    started = time.perf_counter()
    metrics = train(config).metrics
    return metrics, time.perf_counter() - started


def _run_app(
    program: Path, overrides: list[str], multirun: bool, tmp: Path, env: dict, seconds: float
) -> tuple[str, Path, dict | None]:
    """Run the app once (or as a one-job sweep) from ``tmp``; check it ended well and left a
    run folder with a saved configuration. (command shown, run folder, what it returned)"""
    shown = command_line(program, [*(["-m"] if multirun else []), *overrides])
    folder = tmp / ("sweep" if multirun else "run")
    returns = tmp / f"returns-{folder.name}.jsonl"
    where = f"hydra.sweep.dir={folder}" if multirun else f"hydra.run.dir={folder}"
    args = [*(["-m"] if multirun else []), *overrides, where, *recorder_overrides(returns)]
    # With warnings, to see Hydra's about version_base.
    done = run_program(
        program, args, cwd=tmp, what=shown, warnings=True, env=env, expected_seconds=seconds
    )
    expect(
        done.returncode == 0,
        f"`{shown}` failed (exit code {done.returncode}): "
        f"{error_summary(done.stderr, program.parent)}",
        "run the same command in a terminal and read the whole error.",
    )
    expect(
        "version_base" not in done.stderr,
        "Hydra warns that version_base is not set: whatever Hydra is installed, the app then "
        "runs with Hydra 1.1's defaults (it changes the working directory, among other things).",
        "say which Hydra behaviour the app was written for, in the decorator.",
    )
    run_dir = folder
    if multirun:  # the job's folder: `0` unless the app's config names its jobs otherwise
        jobs = list(folder.glob("*/.hydra")) if folder.is_dir() else []
        run_dir = jobs[0].parent if len(jobs) == 1 else folder / "0"
    expect(
        (run_dir / ".hydra" / "config.yaml").is_file(),
        f"`{shown}` left no .hydra/config.yaml in the run's folder.",
        "the app must be run through Hydra's decorator, which saves the configuration.",
    )
    return shown, run_dir, recorded_returns(returns).get(str(run_dir.resolve()))


def _check_run_results(
    shown: str, run_dir: Path, composed: dict, expected: dict[str, float], returned: dict | None
) -> None:
    """The configuration these overrides compose saved, the course's metrics for it in the
    run's folder, its validation accuracy returned."""
    expect(
        _saved_config(run_dir / ".hydra" / "config.yaml") == composed,
        f"after `{shown}`, the .hydra/config.yaml of the run is not the configuration these "
        "overrides compose.",
        "let Hydra compose the configuration from the command line.",
    )
    metrics = read_json_object(
        run_dir / "metrics.json",
        f"after `{shown}`, the metrics of the run",
        "with version_base='1.3' Hydra does not change the working directory: ask it where "
        "this run's folder is (in a sweep, each job has its own).",
    )
    expect_same_metrics(
        metrics,
        expected,
        f"`{shown}` did not train the configuration Hydra composed",
        "train with the configuration the decorated function receives, not one of your own.",
    )
    _check_returned(f"`{shown}`", returned, expected)


def _check_returned(what: str, record: dict | None, expected: dict[str, float]) -> None:
    """What the decorated function returned (``record``, from ReturnRecorder) for the run
    ``what``: its validation accuracy."""
    hint = (
        "the decorated function returns the validation accuracy: it is what a sweeper "
        "(Optuna's, for one) optimises, and the test set is kept for the run chosen."
    )
    expect(
        record is not None,
        f"{what} ran, but Hydra never saw the decorated function end.",
        "call the decorated function under `if __name__ == '__main__':`, once.",
    )
    value, val = record["value"], expected["val_accuracy"]
    expect(
        record["type"] != "NoneType",
        f"{what}: the decorated function returns nothing.",
        hint,
    )
    expect(
        value is not None,
        f"{what}: the decorated function returns a {record['type']}, not a number.",
        hint,
    )
    expect(
        not (value == expected.get("test_accuracy") and value != val),
        f"{what}: the decorated function returns the test accuracy ({value:.4f}).",
        hint,
    )
    expect(
        abs(value - val) <= 1e-9,
        f"{what}: the decorated function returns {value!r}, not the run's validation "
        f"accuracy ({val:.4f}).",
        hint,
    )


def _fresh_overrides(rng: random.Random) -> tuple[list[str], list[str]]:
    """Two runs that differ in every group, each value unlike its default (the exercise's
    options, the trainer's 3 epochs and batch size 64, the seed 42, all the data), each
    learning half-way on the check's data (see scripts.scratch_data), so that a run that
    trains something else never gives the same metrics."""
    epochs = rng.sample([2, 4], 2)
    seeds = rng.sample([s for s in range(1, 1000) if s != 42], 2)
    hidden = rng.sample([32, 64, 96, 160], rng.choice([1, 2, 3]))
    single = [
        "optimizer=sgd",
        f"optimizer.lr={rng.choice([0.1, 0.15, 0.2])}",
        f"optimizer.momentum={rng.choice([0.5, 0.6, 0.7])}",
        f"model.hidden_sizes=[{','.join(map(str, hidden))}]",
        f"model.dropout={rng.choice([0.0, 0.1, 0.3])}",
        f"seed={seeds[0]}",
        f"trainer.epochs={epochs[0]}",
        f"trainer.batch_size={rng.choice([16, 24])}",
        "trainer.progress=false",
    ]
    job = [
        "model=logreg",
        f"optimizer.lr={rng.choice([0.002, 0.004, 0.008])}",
        f"seed={seeds[1]}",
        f"trainer.epochs={epochs[1]}",
        f"trainer.batch_size={rng.choice([8, 48, 96])}",
        f"data.train_size={rng.choice([600, 700, 800])}",
        "trainer.progress=false",
    ]
    return single, job


@exercise(
    "3.2", "a Hydra application: @hydra.main", points=3,
    course_answers=COURSE_ANSWERS, budget=BUDGET_APP,
)  # fmt: skip
def exercise_3_2(app: Any) -> None:
    """@hydra.main(version_base='1.3', config_path='conf', config_name='config') on def main(cfg:
    DictConfig) -> float; reproml.training.train(cfg);
    hydra.core.hydra_config.HydraConfig.get().runtime.output_dir is this run's folder; the
    function returns the validation accuracy (a float); call main() under
    `if __name__ == '__main__':`."""
    folder, conf = _app(app)
    program = folder / "train.py"
    expect(program.is_file(), f"there is no {program}.", "run the cell that writes it.")
    single, job = _fresh_overrides(random.Random())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_root = scratch_data(tmp / "data")
        env = {"REPROML_DATA_DIR": str(data_root)}
        for overrides, multirun in ((single, False), (job, True)):
            work = tmp / ("single" if not multirun else "sweep")
            work.mkdir()
            composed = _compose(conf, overrides)
            expected, seconds = expected_run(composed, data_root)
            shown, run_dir, returned = _run_app(program, overrides, multirun, work, env, seconds)
            _check_run_results(shown, run_dir, composed, expected, returned)


def _saved_config(path: Path) -> dict:
    """A run's .hydra/config.yaml, interpolations resolved where they can be."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    saved = OmegaConf.load(path)
    try:
        return OmegaConf.to_container(saved, resolve=True)
    except OmegaConfBaseException:  # e.g. ${hydra:...}, which only a running app resolves
        return OmegaConf.to_container(saved)
