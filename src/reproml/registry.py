"""How the course builds a part from its configuration group: ``name`` picks a class from a
registry of the course's own, the other keys are its parameters, checked now.

Chapter 03 teaches this form (``name: adam`` then ``lr: 0.001``) for the model, the optimizer
and the tracker alike. Hydra's ``_target_`` would let a configuration file name any callable
in the environment; a registry lists what can be built and says so when a name is wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from reproml.errors import ConfigError


def registered(
    registry: Mapping[str, Callable[..., Any]],
    config: Mapping[str, Any],
    kind: str,
    group: str,
    given_later: tuple[str, ...] = (),
) -> partial[Any]:
    """The class ``config["name"]`` names, with its parameters bound (``given_later`` ones are
    passed when it is built, e.g. an optimizer's model parameters)."""
    params = dict(config)
    name = params.pop("name", None)
    if name not in registry:
        raise ConfigError(
            f"Unknown {kind} {name!r}. Available {kind}s: {', '.join(registry)}"
            f" (set {group}=<name>)."
        )
    factory = registry[name]
    return partial(factory, **checked_params(factory, params, f"{kind} {name!r}", given_later))


def checked_params(
    factory: Any, params: dict[str, Any], what: str, given_later: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Refuse parameters the factory does not take, naming the ones it does."""
    accepted = [p for p in inspect.signature(factory).parameters if p not in ("self", *given_later)]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "none"
        raise ConfigError(f"{what} has no parameter {', '.join(unknown)}; it takes: {takes}.")
    return params
