"""What each configuration group may hold: the course's parts by ``_target_``, their types.

Hydra builds a part from a ``_target_`` (``reproml.models.CNN``) and the keys beside it. Here,
as strings (nothing is imported), are the course's own targets with a schema each: a
structured config (a dataclass) that says which keys the part takes and of what type. A
configuration that names one of them is checked against its schema before anything is built;
one that names a target of your own is checked by building it. Where a configuration comes from
someone else (a classmate's run), only these targets are allowed (``reproml.parts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

# Keys Hydra reads itself; `_partial_` is the only one a course option uses.
HYDRA_KEYS = ("_target_", "_partial_", "_recursive_", "_convert_", "_args_")


@dataclass
class LogisticRegressionConfig:
    _target_: str = "reproml.models.LogisticRegression"


@dataclass
class MLPConfig:
    _target_: str = "reproml.models.MLP"
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 128])
    dropout: float = 0.2


@dataclass
class CNNConfig:
    _target_: str = "reproml.models.CNN"
    channels: list[int] = field(default_factory=lambda: [32, 64])
    hidden: int = 128
    dropout: float = 0.25


@dataclass
class SGDConfig:
    _target_: str = "torch.optim.SGD"
    _partial_: bool = True
    lr: float = MISSING
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False


@dataclass
class AdamConfig:
    _target_: str = "torch.optim.Adam"
    _partial_: bool = True
    lr: float = MISSING
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0


@dataclass
class AdamWConfig(AdamConfig):
    _target_: str = "torch.optim.AdamW"
    weight_decay: float = 0.01


@dataclass
class CosineConfig:
    _target_: str = "reproml.schedules.cosine"
    _partial_: bool = True


@dataclass
class ConstantConfig:
    _target_: str = "reproml.schedules.constant"
    _partial_: bool = True


@dataclass
class MlflowTrackerConfig:
    _target_: str = "reproml.tracking.mlflow.MlflowTracker"
    uri: str | None = None
    experiment: str | None = None
    run_name: str | None = None
    log_model: bool = True
    fallback_uri: str | None = None
    tags: dict[str, str] | None = None
    run_id: str | None = None
    notebook: str | None = None


@dataclass
class NoTrackerConfig:
    _target_: str = "reproml.tracking.base.NoTracker"


@dataclass
class TxtTrackerConfig:
    _target_: str = "reproml.tracking.txt.TxtTracker"
    folder: str = "results"
    params: dict[str, str] | None = None


# group -> option name (the file in conf/<group>/) -> its schema, whose _target_ says the class.
TARGETS: dict[str, dict[str, type]] = {
    "model": {"logreg": LogisticRegressionConfig, "mlp": MLPConfig, "cnn": CNNConfig},
    "optimizer": {"sgd": SGDConfig, "adam": AdamConfig, "adamw": AdamWConfig},
    "scheduler": {"cosine": CosineConfig, "constant": ConstantConfig},
    "tracking": {"mlflow": MlflowTrackerConfig, "none": NoTrackerConfig, "txt": TxtTrackerConfig},
}


def target_of(schema: type) -> str:
    return next(f.default for f in fields(schema) if f.name == "_target_")


def course_target(group: str, option: str) -> str:
    """``reproml.models.CNN`` for ``("model", "cnn")``: the class of one of the course's options."""
    return target_of(TARGETS[group][option])


def schema_for(group: str, target: Any) -> type | None:
    """The course's schema for ``target`` in ``group``; None for a target of your own."""
    return next((s for s in TARGETS.get(group, {}).values() if target_of(s) == target), None)


def option_name(group: str, node: Mapping[str, Any]) -> str | None:
    """The option a built part came from, read off its ``_target_``: ``cnn`` for
    ``reproml.models.CNN``; for a class of your own, its name in lower case (``resnet``).

    Hydra's compose API does not keep which file of a group was chosen, so the name MLflow logs
    (``model.name``) and the default run name (``cnn-adam``) are derived from the target.
    """
    target = node.get("_target_") if isinstance(node, Mapping) else None
    if not isinstance(target, str):
        return None
    for name, schema in TARGETS.get(group, {}).items():
        if target_of(schema) == target:
            return name
    return target.rpartition(".")[2].lower()


def course_options(group: str) -> str:
    """``cnn (reproml.models.CNN), logreg (...)``: for messages that list what exists."""
    options = TARGETS.get(group, {})
    return ", ".join(f"{name} ({target_of(options[name])})" for name in sorted(options))


def schema_problems(group: str, node: Mapping[str, Any]) -> list[str]:
    """Keys the course's part does not take, and values of the wrong type, one line each.

    Empty for a target of your own (its signature is checked when it is built).
    """
    schema = schema_for(group, node.get("_target_"))
    if schema is None:
        return []
    kinds = {f.name: str(f.type) for f in fields(schema)}
    takes = [key for key in kinds if key not in HYDRA_KEYS]
    name, structured = option_name(group, node), OmegaConf.structured(schema)
    problems = []
    for key, value in node.items():
        if key in HYDRA_KEYS and key in kinds:
            continue
        if key not in takes:
            problems.append(
                f"{group} {name!r} has no parameter {key}; it takes: {', '.join(takes) or 'none'}"
            )
            continue
        kind = kinds[key]
        try:
            OmegaConf.merge(structured, {key: value})
            typed = kind != "bool" or isinstance(value, bool)  # OmegaConf reads "yes" as True
        except OmegaConfBaseException:
            typed = False
        if not typed:
            problems.append(f"{group}.{key} must be {_DESCRIBED.get(kind, kind)}, got {value!r}")
    return problems


_DESCRIBED = {
    "float": "a number",
    "int": "an integer",
    "bool": "true or false",
    "list[int]": "a list of integers",
    "list[float]": "a list of numbers",
    "str | None": "a text or null",
    "dict[str, str] | None": "a mapping of names to texts, or null",
}
