"""The course's parts as ``reproml.schema`` describes them: each schema says what its target
really takes, and what ``conf/`` really holds."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields

import pytest
from hydra.utils import get_class, get_method
from omegaconf import OmegaConf

from reproml.base.paths import config_dir
from reproml.schema import (
    HYDRA_KEYS,
    TARGETS,
    course_options,
    option_name,
    schema_for,
    schema_problems,
    target_of,
)

CONF = config_dir()
OPTIONS = [(group, name) for group, options in TARGETS.items() for name in sorted(options)]
# What the code that builds a part passes itself, never the configuration.
GIVEN = {"model": set(), "optimizer": {"params"}, "scheduler": {"optimizer", "total_steps"},
         "tracking": set()}  # fmt: skip


def located(group: str, name: str):
    target = target_of(TARGETS[group][name])
    return get_method(target) if group == "scheduler" else get_class(target)


def parameters(schema: type) -> dict[str, object]:
    """The schema's parameters (Hydra's keys aside) and their defaults (MISSING: required)."""
    found = {}
    for f in fields(schema):
        if f.name in HYDRA_KEYS:
            continue
        found[f.name] = f.default_factory() if f.default_factory is not MISSING else f.default
    return found


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_every_target_locates_to_what_its_schema_says_it_takes(group, name):
    schema = TARGETS[group][name]
    part = located(group, name)
    assert callable(part)
    signature = inspect.signature(part)
    takes = set(signature.parameters) - {"self"}
    assert GIVEN[group] <= takes
    if group == "optimizer":  # torch's optimizers take more than the course sets
        assert set(parameters(schema)) <= takes - GIVEN[group]
    else:
        assert set(parameters(schema)) == takes - GIVEN[group]


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_every_schema_default_is_its_targets_default(group, name):
    signature = inspect.signature(located(group, name))
    for key, default in parameters(TARGETS[group][name]).items():
        if default == "???":  # MISSING: the option file must set it (an optimizer's lr)
            assert key == "lr", (group, name, key)
            continue
        expected = signature.parameters[key].default
        if isinstance(expected, tuple):  # a YAML list stands for a tuple
            expected = list(expected)
        assert default == expected, (group, name, key)


def test_the_schemas_say_which_parts_are_built_later():
    for group, options in TARGETS.items():
        for name, schema in options.items():
            partial = {f.name: f.default for f in fields(schema)}.get("_partial_", False)
            assert partial is (group in ("optimizer", "scheduler")), (group, name)


@pytest.mark.parametrize("group", sorted(TARGETS))
def test_every_option_file_is_a_schema_and_every_schema_a_file(group):
    files = {path.stem: path for path in (CONF / group).glob("*.yaml")}
    assert set(files) == set(TARGETS[group])
    for name, path in files.items():
        loaded = OmegaConf.to_container(OmegaConf.load(path))
        schema = TARGETS[group][name]
        assert loaded["_target_"] == target_of(schema), path
        assert set(loaded) <= {f.name for f in fields(schema)}, path
        assert "name" not in loaded, path
        assert schema_problems(group, loaded) == [], path


def test_the_optimizers_set_their_learning_rate():
    for name in TARGETS["optimizer"]:
        assert "lr" in OmegaConf.load(CONF / "optimizer" / f"{name}.yaml"), name


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_option_name_round_trips(group, name):
    schema = TARGETS[group][name]
    assert option_name(group, {"_target_": target_of(schema), "x": 1}) == name
    assert schema_for(group, target_of(schema)) is schema


def test_a_target_of_your_own_is_named_after_its_class():
    assert option_name("model", {"_target_": "my_project.nets.ResNet"}) == "resnet"
    assert option_name("optimizer", {"_target_": "torch.optim.RMSprop"}) == "rmsprop"
    assert option_name("model", {"channels": [1]}) is None  # no target, no name
    assert option_name("model", {"_target_": 3}) is None
    assert schema_for("model", "my_project.nets.ResNet") is None
    assert schema_for("model", "torch.optim.SGD") is None  # an optimizer is not a model


def test_course_options_name_each_option_and_its_target():
    assert course_options("model") == (
        "cnn (reproml.models.CNN), logreg (reproml.models.LogisticRegression), "
        "mlp (reproml.models.MLP)"
    )
    assert course_options("augment") == ""


@pytest.mark.parametrize(
    ("group", "node", "problem"),
    [
        (
            "model",
            {"_target_": "reproml.models.CNN", "hidden_sizes": [10]},
            "model 'cnn' has no parameter hidden_sizes; it takes: channels, hidden, dropout",
        ),
        (
            "model",
            {"_target_": "reproml.models.LogisticRegression", "dropout": 0.1},
            "model 'logreg' has no parameter dropout; it takes: none",
        ),
        (
            "optimizer",
            {"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1, "betas": [0.9, 0.99]},
            "optimizer 'sgd' has no parameter betas; it takes: lr, momentum, weight_decay",
        ),
        (
            "optimizer",
            {"_target_": "torch.optim.SGD", "_partial_": True, "lr": "fast"},
            "optimizer.lr must be a number, got 'fast'",
        ),
        (
            "tracking",
            {"_target_": "reproml.tracking.mlflow.MlflowTracker", "log_model": "yes"},
            "tracking.log_model must be true or false, got 'yes'",
        ),
        (
            "model",
            {"_target_": "reproml.models.CNN", "channels": [32, "wide"]},
            "model.channels must be a list of integers, got [32, 'wide']",
        ),
        (
            "model",
            {"_target_": "reproml.models.CNN", "hidden": 1.5},
            "model.hidden must be an integer, got 1.5",
        ),
        (
            "model",
            {"_target_": "reproml.models.MLP", "_args_": [[8]]},
            "model 'mlp' has no parameter _args_",
        ),
    ],
)
def test_schema_problems_name_an_unknown_key_or_a_wrong_type(group, node, problem):
    (found,) = schema_problems(group, node)
    assert found.startswith(problem)


def test_every_problem_is_reported_and_a_good_node_has_none():
    node = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": "fast", "momentum": 0.9}
    assert len(schema_problems("optimizer", node)) == 2
    good = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.1, "betas": [0.8, 0.9]}
    assert schema_problems("optimizer", good) == []


def test_a_target_of_your_own_is_not_checked_by_schema():
    assert schema_problems("model", {"_target_": "my_project.nets.ResNet", "depth": "x"}) == []
