"""Building the course's parts from ``conf/`` with Hydra's ``instantiate``, and refusing, before
anything is imported, a configuration from someone else that names anything else."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from reproml.base.errors import ConfigError
from reproml.config import load_config, option
from reproml.parts import UntrustedConfig, build_part, check_course_part, check_trusted_config
from reproml.schema import TARGETS, target_of
from reproml.tracking.base import Tracker

ALL_MODELS = "cnn (reproml.models.CNN), logreg (reproml.models.LogisticRegression), mlp"


def parameters():
    return torch.nn.Linear(3, 2).parameters()


@pytest.mark.parametrize("name", sorted(TARGETS["model"]))
def test_builds_each_course_model_from_conf(name):
    model = build_part(option("model", name), "model")
    assert type(model).__name__ == target_of(TARGETS["model"][name]).rpartition(".")[2]
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_a_model_built_later_is_a_partial_checked_now():
    make = build_part(option("model", "mlp"), "model", _partial_=True)
    assert isinstance(make, functools.partial)
    linear = [m for m in make().modules() if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in linear] == [256, 128, 10]
    with pytest.raises(ConfigError, match="model 'cnn' has no parameter hidden_sizes; it takes: "
                       "channels, hidden, dropout"):  # fmt: skip
        build_part({**option("model", "cnn"), "hidden_sizes": [10]}, "model", _partial_=True)


@pytest.mark.parametrize("name", sorted(TARGETS["optimizer"]))
def test_builds_each_optimizer_from_conf_with_its_parameters(name):
    node = option("optimizer", name)
    make = build_part({**node, "lr": 0.123}, "optimizer")
    assert isinstance(make, functools.partial)  # built later, with the model's parameters
    optimizer = make(parameters())
    assert type(optimizer) is get_class(node["_target_"])
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.123
    for key, value in node.items():
        if key not in ("_target_", "_partial_", "lr"):
            assert (list(group[key]) if isinstance(value, list) else group[key]) == value, key


def test_the_betas_of_a_yaml_list_reach_adam():
    optimizer = build_part(
        {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 0.1, "betas": [0.8, 0.9]},
        "optimizer",
    )(parameters())
    assert tuple(optimizer.param_groups[0]["betas"]) == (0.8, 0.9)


def test_an_adam_parameter_is_refused_for_sgd_before_anything_is_built():
    with pytest.raises(
        ConfigError, match="optimizer 'sgd' has no parameter betas; it takes: lr, momentum"
    ):
        build_part({**option("optimizer", "sgd"), "betas": [0.9, 0.99]}, "optimizer")


@pytest.mark.parametrize("name", sorted(TARGETS["scheduler"]))
def test_builds_each_schedule_with_the_optimizer_and_the_steps(name):
    make = build_part(option("scheduler", name), "scheduler")
    optimizer = torch.optim.SGD(parameters(), lr=0.5)
    schedule = make(optimizer, 10)
    assert isinstance(schedule, torch.optim.lr_scheduler.LRScheduler)
    for _ in range(10):
        optimizer.step()
        schedule.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5 if name == "constant" else 0.0)


@pytest.mark.parametrize("name", sorted(TARGETS["tracking"]))
def test_builds_each_tracker(name, tmp_path):
    node = option("tracking", name)
    if name == "txt":
        node["folder"] = str(tmp_path / "results")
    tracker = build_part(node, "tracking")
    assert isinstance(tracker, Tracker)
    assert type(tracker).__name__ == target_of(TARGETS["tracking"][name]).rpartition(".")[2]


def test_a_part_is_built_from_hydras_own_config():
    cfg = load_config(["model=cnn", "model.hidden=16", "optimizer=sgd"])
    model = build_part(cfg.model, "model")
    assert model.classifier[-1].in_features == 16
    optimizer = build_part(cfg.optimizer, "optimizer")(model.parameters())
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.param_groups[0]["momentum"] == 0.9


def test_an_unknown_target_names_the_courses_options():
    with pytest.raises(ConfigError) as error:
        build_part({"_target_": "reproml.models.ResNet"}, "model")
    message = str(error.value)
    assert "Cannot build model 'reproml.models.ResNet'" in message
    assert "cnn (reproml.models.CNN)" in message and ALL_MODELS in message
    assert "\n" not in message


def test_a_group_without_a_target_says_how_to_choose_one():
    with pytest.raises(
        ConfigError, match=r"model has no _target_ to build\. The course's models: "
    ):
        build_part({"name": "cnn"}, "model")


def test_an_unknown_parameter_of_a_partial_names_the_ones_it_takes():
    node = {"_target_": "reproml.schedules.cosine", "_partial_": True, "warmup": 100}
    with pytest.raises(
        ConfigError,
        match="scheduler 'cosine' has no parameter warmup; it takes: optimizer, total_steps",
    ):
        build_part(node, "scheduler")


def test_a_target_of_your_own_is_built(tmp_path):
    """Your own configuration may name any class: that is what _target_ is for."""
    layer = build_part({"_target_": "torch.nn.Linear", "in_features": 3, "out_features": 2},
                       "model")  # fmt: skip
    assert isinstance(layer, torch.nn.Linear) and layer.out_features == 2


# A configuration from someone else: only the course's parts, compared as strings.
MLP = {"_target_": "reproml.models.MLP", "hidden_sizes": [16], "dropout": 0.1}


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"_target_": "os.system", "command": "true"}, "model 'os.system' is not one of the"),
        ({"_target_": "builtins.eval", "_args_": ["1"]}, "model 'builtins.eval' is not one of"),
        ({"_target_": "not_a_module_xyz.Thing"}, "model 'not_a_module_xyz.Thing' is not one"),
        ({"_target_": "reproml.models.CNN.__init__"}, "is not one of the course's models"),
        ({"_target_": "torch.optim.SGD", "lr": 0.1}, "model 'torch.optim.SGD' is not one of"),
        ({"channels": [32]}, "model None is not one of the course's models"),
        (
            {**MLP, "hidden_sizes": [{"_target_": "os.system", "command": "true"}]},
            "model.hidden_sizes holds a mapping that names a target",
        ),
        ({**MLP, "dropout": {"_target_": "os.system"}}, "model.dropout holds a mapping"),
        ({**MLP, "_args_": [[8]]}, "model sets _args_, which the course's parts never set"),
        ({**MLP, "_recursive_": True}, "model sets _recursive_"),
        ({**MLP, "_convert_": "all"}, "model sets _convert_"),
        ({**MLP, "depth": 3}, "model 'mlp' has no parameter depth"),
        ({**MLP, "dropout": "half"}, "model.dropout must be a number, got 'half'"),
        ("reproml.models.MLP", "model is not a configuration group"),
    ],
)
def test_check_course_part_refuses_anything_but_a_course_part(node, message):
    with pytest.raises(UntrustedConfig) as error:
        check_course_part("model", node)
    assert message in str(error.value)
    assert isinstance(error.value, ConfigError)  # one clear message where a ConfigError is
    if "is not one of" in message:
        assert ALL_MODELS in str(error.value)


def test_an_unknown_module_is_refused_without_being_imported():
    """Compared as a string: nothing named by a configuration is imported to decide."""
    code = (
        "import sys; from reproml.parts import UntrustedConfig, check_course_part\n"
        "try:\n"
        "    check_course_part('model', {'_target_': 'not_a_module_xyz.Thing'})\n"
        "except UntrustedConfig:\n"
        "    print('refused', 'not_a_module_xyz' in sys.modules, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["refused", "False", "False"]
    with pytest.raises(UntrustedConfig):
        check_course_part("model", {"_target_": "not_a_module_xyz.Thing"})
    assert "not_a_module_xyz" not in sys.modules


@pytest.mark.parametrize(("group", "name"), [(g, n) for g in TARGETS for n in sorted(TARGETS[g])])
def test_check_course_part_accepts_every_course_option(group, name):
    check_course_part(group, option(group, name))


def test_check_trusted_config_accepts_the_default_configuration():
    config = load_config()
    check_trusted_config(config)
    check_trusted_config(OmegaConf.to_container(config))


@pytest.mark.parametrize(("group", "name"), [(g, n) for g in TARGETS for n in sorted(TARGETS[g])])
def test_check_trusted_config_accepts_every_course_option(group, name):
    check_trusted_config(load_config([f"{group}={name}"]))


def test_check_trusted_config_accepts_the_tags_a_rerun_logs():
    """A re-run logs its configuration with ``tracking.tags: {rerun_of: <id>}``
    (reproml_course.chapters.audit.rerun): re-running it again must not be refused."""
    check_trusted_config(config_with(tracking__tags={"rerun_of": "0123abcd"}))


def config_with(**changes) -> dict:
    config = OmegaConf.to_container(load_config())
    for key, value in changes.items():
        group, _, leaf = key.partition("__")
        if leaf:
            config[group][leaf] = value
        else:
            config[group] = value
    return config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"data__hook": {"_target_": "os.system", "command": "true"}},
            "data names a target, which only model, optimizer, scheduler, tracking may",
        ),
        ({"trainer__callbacks": [{"x": {"_target_": "builtins.eval"}}]}, "trainer names a target"),
        ({"seed": {"_target_": "os.getpid"}}, "seed names a target"),
        ({"model": {"_target_": "os.system", "command": "true"}}, "model 'os.system' is not one"),
        ({"optimizer": {"_target_": "os.system"}}, "optimizer 'os.system' is not one"),
        ({"scheduler": {"_target_": "builtins.exec"}}, "scheduler 'builtins.exec' is not one"),
        ({"tracking__tags": {"x": {"_target_": "os.system"}}}, "tracking"),
        (
            {"model": {"name": "cnn", "channels": [{"_target_": "os.system"}]}},
            "model names a target",
        ),
        ({"optimizer__lr": "fast"}, "optimizer.lr must be a number, got 'fast'"),
    ],
)
def test_check_trusted_config_refuses_a_target_out_of_its_place(changes, message):
    with pytest.raises(UntrustedConfig) as error:
        check_trusted_config(config_with(**changes))
    assert message in str(error.value)
