"""The model a competition run says it trained, from its logged parameters, refused unless it
is one of the course's: the leaderboard rebuilds it to test its weights, and a ``_target_``
can name any callable (``os.system``), so nothing the run logged is imported or called to
decide (``reproml.parts.check_course_part``)."""

from __future__ import annotations

import ast

from reproml_course.classroom.model_files import Rejected


def model_spec(params: dict[str, str]) -> dict:
    """The course model the run says it trained: ``model._target_`` (``model.name`` for runs
    logged before it) and its parameters, read as Python literals (never evaluated as code),
    refused unless the target is one of the course's models, compared as a string before
    anything is imported (``reproml.parts.check_course_part``)."""
    from reproml.parts import UntrustedConfig, check_course_part
    from reproml.schema import TARGETS, target_of

    spec: dict = {}
    for key, text in params.items():
        if key.startswith("model.") and key != "model.name":
            try:
                spec[key.removeprefix("model.")] = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                spec[key.removeprefix("model.")] = text
    if "_target_" not in spec:
        if "model.name" not in params:
            raise Rejected(
                "it logged no model._target_ parameter: the leaderboard ranks course models"
            )
        known = TARGETS["model"].get(params["model.name"])
        spec["_target_"] = target_of(known) if known else params["model.name"]
    try:
        check_course_part("model", spec)
    except UntrustedConfig as error:
        raise Rejected(f"the leaderboard cannot build its model: {error}") from None
    return spec
