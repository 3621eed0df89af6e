"""The run configuration: composed by Hydra from ``conf/``, checked before anything runs.

``load_config`` gives notebooks and tests the exact configuration the command line would get,
through Hydra's compose API, without changing the working directory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from reproml.base.errors import ConfigError
from reproml.base.paths import config_dir
from reproml.schema import TARGETS, option_name, schema_problems


def load_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose ``conf/config.yaml`` with command-line style overrides, e.g. ``["model=mlp"]``."""
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        return compose(config_name=config_name, overrides=list(overrides))


def option(group: str, name: str) -> dict[str, Any]:
    """``conf/<group>/<name>.yaml`` as a plain dict, for code that builds its configuration
    without Hydra (chapter 02's script): ``option("model", "mlp")``."""
    path = config_dir() / group / f"{name}.yaml"
    if not path.is_file():
        found = sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))
        raise ConfigError(f"No option {name!r} in {group}: choose one of {', '.join(found)}.")
    container = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(container, dict)
    return container


def default_config(quick: bool = False) -> dict[str, Any]:
    """The course's default configuration as a plain nested dict, for code that builds its
    configuration by hand (chapter 02's script): ``conf/`` without tracking, in quick mode if
    asked (500 images, one epoch)."""
    overrides = ["tracking=none", *(["experiment=quick"] if quick else [])]
    container = OmegaConf.to_container(load_config(overrides), resolve=True)
    assert isinstance(container, dict)
    container.pop("tracking", None)
    return container


def quick_overrides() -> list[str]:
    """Quick mode as plain overrides (``data.train_size=500`` ...), read from
    ``conf/experiment/quick.yaml``: for an app with its own ``conf/`` and no such preset."""
    return [*preset_overrides("quick"), "trainer.progress=false"]


def preset_overrides(name: str) -> list[str]:
    """``conf/experiment/<name>.yaml`` as plain overrides (``trainer.epochs=40`` ...)."""
    preset = OmegaConf.load(config_dir() / "experiment" / f"{name}.yaml")
    return [f"{key}={value}" for key, value in flatten_config(preset).items()]


def as_config(config: DictConfig | Mapping[str, Any]) -> DictConfig:
    """A resolved copy: interpolations are replaced by their values and Hydra's node is dropped."""
    container = OmegaConf.to_container(OmegaConf.create(config), resolve=True)
    assert isinstance(container, dict)
    container.pop("hydra", None)
    return OmegaConf.create(container)


def flatten_config(
    config: DictConfig | Mapping[str, Any], exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """``{"model._target_": "reproml.models.CNN", "model.channels": [32, 64], ..., "model.name":
    "cnn"}``, without the ``exclude`` groups.

    What MLflow logs as parameters: taken from the configuration that ran, never typed by hand.
    A part built from a ``_target_`` also gets its option's name (``model.name``,
    ``reproml.schema.option_name``), the key runs are compared and searched by; Hydra's
    ``_partial_`` says how it is built, not what, and is left out.
    """
    container = OmegaConf.to_container(OmegaConf.create(config), resolve=True)
    assert isinstance(container, dict)
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix.rstrip(".")] = node

    for key, value in container.items():
        if key in exclude or key == "hydra":
            continue
        if isinstance(value, dict) and "_target_" in value:
            value = {k: v for k, v in value.items() if k != "_partial_"}
            value.setdefault("name", option_name(key, value))
        walk(value, f"{key}.")
    return flat


# --- validation -------------------------------------------------------------------------------
# Each rule: (dotted key, check, what the value must be). A rule applies when the key is present;
# missing required keys are reported separately.


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _optional_positive_int(value: Any) -> bool:
    return value is None or _positive_int(value)


def _positive_number(value: Any) -> bool:
    return _is_number(value) and value > 0


def _non_negative_number(value: Any) -> bool:
    return _is_number(value) and value >= 0


def _fraction(value: Any) -> bool:
    return _is_number(value) and 0 <= value < 1


def _betas(value: Any) -> bool:
    return isinstance(value, Sequence) and len(value) == 2 and all(_fraction(b) for b in value)


def _sizes(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(_positive_int(v) for v in value)
    )


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _device(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value) is not None


RULES: list[tuple[str, Callable[[Any], bool], str]] = [
    ("seed", _is_int, "an integer"),
    ("data.download", _boolean, "true or false"),
    ("data.val_fraction", _fraction, "a number in [0, 1)"),
    ("data.split_seed", _is_int, "an integer"),
    ("data.train_size", _optional_positive_int, "null or an integer >= 1"),
    ("data.test_size", _optional_positive_int, "null or an integer >= 1"),
    ("data.test", _boolean, "true or false"),
    ("model.hidden_sizes", _sizes, "a list of integers >= 1"),
    ("model.channels", _sizes, "a list of integers >= 1"),
    ("model.hidden", _positive_int, "an integer >= 1"),
    ("model.dropout", _fraction, "a number in [0, 1)"),
    ("optimizer.lr", _positive_number, "a number > 0"),
    ("optimizer.momentum", _fraction, "a number in [0, 1)"),
    ("optimizer.weight_decay", _non_negative_number, "a number >= 0"),
    ("optimizer.betas", _betas, "two numbers in [0, 1), e.g. [0.9, 0.999]"),
    ("trainer.epochs", _positive_int, "an integer >= 1"),
    ("trainer.batch_size", _positive_int, "an integer >= 1"),
    ("trainer.eval_batch_size", _positive_int, "an integer >= 1"),
    ("trainer.threads", _optional_positive_int, "null or an integer >= 1"),
    ("trainer.device", _device, "auto, cpu, cuda, cuda:<index> or mps"),
    ("trainer.deterministic", _boolean, "true or false"),
    ("trainer.progress", _boolean, "true or false"),
    ("trainer.label_smoothing", _fraction, "a number in [0, 1)"),
    ("augment.hflip", _boolean, "true or false"),
    ("augment.shift", lambda v: _is_int(v) and 0 <= v <= 8, "an integer from 0 to 8"),
]
REQUIRED = ["seed", "data", "model._target_", "optimizer._target_", "optimizer.lr",
            "trainer.epochs", "trainer.batch_size"]  # fmt: skip


_ABSENT = object()


def validate_config(config: DictConfig | Mapping[str, Any]) -> DictConfig:
    """Check every value the run depends on; raise one ConfigError that lists all problems."""
    config = as_config(config)
    problems = [
        f"{key} is missing{_old_form(config, key)}"
        for key in REQUIRED
        if OmegaConf.select(config, key, default=_ABSENT) is _ABSENT
    ]
    ruled = tuple(f"{key} must" for key, _, _ in RULES)
    for group in TARGETS:
        node = config.get(group)
        if isinstance(node, DictConfig) and "_target_" in node:
            found = schema_problems(group, OmegaConf.to_container(node))
            problems += [p for p in found if not p.startswith(ruled)]  # said once, below
    for key, check, expected in RULES:
        value = OmegaConf.select(config, key, default=_ABSENT)
        if value is _ABSENT:
            continue
        plain = OmegaConf.to_object(value) if OmegaConf.is_config(value) else value
        if not check(plain):
            problems.append(f"{key} must be {expected}, got {plain!r}")
    if problems:
        raise ConfigError("Invalid configuration: " + "; ".join(problems) + ".")
    return config


def _old_form(config: DictConfig, key: str) -> str:
    group, _, leaf = key.partition(".")
    name = OmegaConf.select(config, f"{group}.name", default=None)
    if leaf != "_target_" or name is None:
        return ""
    return (
        f" ({group}.name is the course's old form: choose the option with "
        f"reproml.config.option({group!r}, {name!r}), or {group}={name} in Hydra)"
    )
