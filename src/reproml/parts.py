"""Build a part (model, optimizer, scheduler, tracker) from its configuration group with
``hydra.utils.instantiate``, as Hydra projects do; and refuse, before anything is imported, a
configuration from someone else that names anything but the course's own parts.

``_target_`` can name any callable in the environment (``os.system`` included). That is the
point for your own configuration files, and a hole for a configuration another person wrote:
a classmate's logged run rebuilt by the class server, or rerun by you in chapter 06. Hydra 1.3
blocks a few known-dangerous targets and calls it "not a complete security boundary"; the
course allows only ``reproml.schema.TARGETS`` there, compared as strings.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reproml.base.errors import ConfigError
from reproml.schema import (
    HYDRA_KEYS,
    TARGETS,
    course_options,
    option_name,
    schema_for,
    schema_problems,
)


class UntrustedConfig(ConfigError):
    """A configuration from someone else names something the course does not build."""


def build_part(node: DictConfig | Mapping[str, Any], group: str, **given: Any) -> Any:
    """``instantiate(node, **given)``; a target that cannot be found, or a parameter it does
    not take, becomes one ConfigError that names the course's options for the group.

    Hydra first binds the parameters (a ``functools.partial``), which are checked against the
    target's signature; the part is then built, unless ``_partial_`` asks to leave that for
    later (the model after seeding, the optimizer with the model's parameters). An error the
    part raises itself (a ConfigError of the tracker's, say) reaches the caller unchanged.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    plain = _plain(node)
    target = plain.get("_target_")
    if not isinstance(target, str):
        raise ConfigError(
            f"{group} has no _target_ to build. The course's {group}s: {course_options(group)}"
            f" (set {group}=<name>)."
        )
    later = bool(given.pop("_partial_", plain.get("_partial_", False)))
    try:
        part = instantiate({**plain, "_partial_": True}, _convert_="all", **given)
    except InstantiationException as error:
        reason = " ".join(str(error).split()).split(", set env var HYDRA_FULL_ERROR")[0]
        raise ConfigError(
            f"Cannot build {group} {target!r}: {reason.rstrip('.')}. The course's {group}s: "
            f"{course_options(group)} (set {group}=<name>)."
        ) from None
    _check_parameters(part, group, option_name(group, plain))
    return part if later else part()


def _check_parameters(part: functools.partial, group: str, name: str | None) -> None:
    try:
        signature = inspect.signature(part.func)
    except (TypeError, ValueError):  # a builtin without a signature: building it will tell
        return
    try:
        signature.bind_partial(*part.args, **part.keywords)
    except TypeError:
        given_later = ("self", "params") if group == "optimizer" else ("self",)
        takes = [p for p in signature.parameters if p not in given_later]
        unknown = sorted(set(part.keywords) - set(signature.parameters))
        raise ConfigError(
            f"{group} {name!r} has no parameter {', '.join(unknown) or '?'}; it takes: "
            f"{', '.join(takes) or 'none'}."
        ) from None


def check_course_part(group: str, node: Any) -> None:
    """Refuse a part from an untrusted configuration unless it is one of the course's own,
    with only the parameters its schema lists; nothing is imported to decide."""
    if not isinstance(node, Mapping):
        raise UntrustedConfig(f"{group} is not a configuration group.")
    target = node.get("_target_")
    if schema_for(group, target) is None:  # strings compared: nothing imported
        raise UntrustedConfig(
            f"{group} {target!r} is not one of the course's {group}s: {course_options(group)}."
        )
    for key, value in node.items():
        if key in HYDRA_KEYS and key not in ("_target_", "_partial_"):
            raise UntrustedConfig(f"{group} sets {key}, which the course's parts never set.")
        if _names_a_target(value):
            raise UntrustedConfig(f"{group}.{key} holds a mapping that names a target.")
    problems = schema_problems(group, node)
    if problems:
        raise UntrustedConfig(f"{group} cannot be built: " + "; ".join(problems) + ".")


def check_trusted_config(config: DictConfig | Mapping[str, Any]) -> None:
    """Every ``_target_`` in a configuration someone else wrote is a course part in its place
    (``model._target_``...); anywhere else, or naming anything else, is refused."""
    plain = _plain(config)
    for key, value in plain.items():
        if key in TARGETS and isinstance(value, Mapping) and "_target_" in value:
            check_course_part(key, value)
        elif _names_a_target(value):
            raise UntrustedConfig(f"{key} names a target, which only {', '.join(TARGETS)} may.")


def _names_a_target(value: Any) -> bool:
    """A mapping with a key Hydra reads (``_target_``...), however deep in lists and mappings:
    what recursive instantiation would build."""
    if isinstance(value, Mapping):
        return any(k in HYDRA_KEYS for k in value) or any(map(_names_a_target, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_names_a_target, value))
    return False


def _plain(node: Any) -> dict[str, Any]:
    if OmegaConf.is_config(node):
        node = OmegaConf.to_container(node, resolve=True)
    return dict(node)
