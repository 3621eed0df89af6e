"""Chapter 03, exercise 3.1: the student's ``conf/`` folder of config groups.

The check reads the defaults list of ``conf/config.yaml`` (the groups, then ``_self_``, then the
empty ``experiment`` slot) and composes the configuration with Hydra's compose API: every
option holds exactly its own parameters with the values the exercise gives, and what Hydra's
``instantiate`` needs to build it (``_target_``, the class's dotted path; ``_partial_: true``
for an optimizer, built later with the model's parameters; ``ch03_options``); the top level
only the groups and the seed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, exercise, expect
from reproml_course.checks.ch03_app import _app, _compose, _written
from reproml_course.checks.ch03_options import _check_option

GROUP_FILES = [("model", "mlp"), ("model", "logreg"), ("optimizer", "sgd"), ("optimizer", "adam")]
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
    from reproml.base.errors import ConfigError
    from reproml.config import validate_config

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
