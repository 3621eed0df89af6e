"""Chapter 03, exercise 3.1: the student's ``conf/`` folder of config groups.

The check reads the defaults list of ``conf/config.yaml`` (the groups, then ``_self_``, then the
empty ``experiment`` slot) and composes the configuration with Hydra's compose API: every
option holds exactly its own parameters with the values the exercise gives, and what Hydra's
``instantiate`` needs to build it (``_target_``, the class's dotted path; ``_partial_: true``
for an optimizer, built later with the model's parameters); the top level only the groups and
the seed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, exercise, expect
from reproml_course.checks.ch03_hydra import _app, _compose, _written

GROUP_FILES = [("model", "mlp"), ("model", "logreg"), ("optimizer", "sgd"), ("optimizer", "adam")]
# What each option holds, as the exercise gives it.
OPTIONS = {
    ("model", "mlp"): {"_target_": "reproml.models.MLP", "hidden_sizes": [256, 128],
                       "dropout": 0.2},
    ("model", "logreg"): {"_target_": "reproml.models.LogisticRegression"},
    ("optimizer", "sgd"): {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.05,
                           "momentum": 0.9},
    ("optimizer", "adam"): {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.001,
                            "betas": [0.9, 0.999]},
}  # fmt: skip
GROUPS = {"data": "fashion_mnist", "trainer": "default", "model": "mlp", "optimizer": "adam"}
TOP_LEVEL = {*GROUPS, "seed"}
BUDGET_CONFIG = 60  # seconds; 3.1 composes a few times (about 2 s here)


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
    _check_target(group, option, got)
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
            f"{', '.join(sorted(k for k in wanted if not k.startswith('_'))) or 'its _target_'}"
            f" and none of {', '.join(foreign)} ({whose}).",
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


def _check_target(group: str, option: str, got: dict) -> None:
    """What Hydra needs to build the part: ``_target_``, spelled so, naming the class; for an
    optimizer, ``_partial_: true`` (it is built later, once the model's parameters exist). An
    option nested under its group's name is left to the messages about keys."""
    if set(got) == {group}:
        return
    what = f"conf/{group}/{option}.yaml"
    near = [k for k in got if k != "_target_" and k.strip("_").lower() in ("target", "class")]
    expect(
        "_target_" in got,
        f"{what} has no _target_"
        + (f" (it has {near[0]!r}: Hydra reads only `_target_`)" if near else "")
        + (" (it has name:, which Hydra does not read)" if "name" in got and not near else "")
        + ".",
        "`_target_:`, with an underscore on each side, names the class Hydra's instantiate "
        "builds; the exercise gives it.",
    )
    target, wanted = got["_target_"], OPTIONS[group, option]["_target_"]
    if target != wanted and isinstance(target, str):
        module = target.rpartition(".")[0]
        reason = (
            "a class's path starts with its module" if not module
            else "the class keeps its capitals" if target.lower() == wanted.lower()
            else "that is another class"
        )  # fmt: skip
        raise CheckFailed(
            f"{what} has _target_: {target}; Hydra would import and call that ({reason}).",
            "_target_ is the dotted path of a class, module then class name, exactly as you "
            "would import it: the exercise gives it.",
        )
    partial = got.get("_partial_")
    if group == "optimizer" and partial is not True:
        said = "no _partial_" if "_partial_" not in got else f"_partial_: {partial!r}"
        raise CheckFailed(
            f"{what} has {said}"
            + (" (text, not true)" if isinstance(partial, str) else "")
            + f": instantiate would call {wanted.rpartition('.')[2]}(lr=...) at once, without "
            "the model's parameters, and fail.",
            "`_partial_: true` (no quotes) makes instantiate return the optimizer half-built; "
            "the training calls it with the model's parameters.",
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
    `- _self_` and `- experiment: null`; conf/optimizer/sgd.yaml holds `_target_:
    torch.optim.SGD`, `_partial_: true`, `lr:` and `momentum:`, nothing of Adam's; a list in
    YAML is `[256, 128]`;
    hydra.compose(config_name='config', overrides=[...]) inside
    hydra.initialize_config_dir(version_base='1.3', config_dir=...) shows the result."""
    from reproml.config import validate_config
    from reproml.errors import ConfigError

    _, conf = _app(app)
    _written(conf, "config.yaml", *(f"{g}/{o}.yaml" for g, o in GROUP_FILES))
    _check_defaults_list(conf)
    default = _compose(conf, [])
    entries = [e for e in _defaults_list(conf) if isinstance(e, dict) and len(e) == 1]
    chosen = dict(next(iter(e.items())) for e in entries)
    got = (chosen.get("model"), chosen.get("optimizer"))
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
