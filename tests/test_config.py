from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from reproml.augment import augmentation
from reproml.base.errors import ConfigError
from reproml.base.paths import config_dir
from reproml.config import flatten_config, load_config, option, validate_config
from reproml.experiment import build_tracker
from reproml.parts import build_part
from reproml.schema import TARGETS

CONF = config_dir()
OPTIONS = sorted(
    (path.parent.name, path.stem)
    for path in CONF.glob("*/*.yaml")
    if path.parent.name != "experiment"
)
EXPERIMENTS = sorted(path.stem for path in (CONF / "experiment").glob("*.yaml"))


def test_the_options_this_course_promises_exist():
    assert {("model", m) for m in ("logreg", "mlp", "cnn")} <= set(OPTIONS)
    assert {("optimizer", o) for o in ("sgd", "adam", "adamw")} <= set(OPTIONS)
    assert {("scheduler", s) for s in ("cosine", "constant")} <= set(OPTIONS)
    assert "quick" in EXPERIMENTS


def test_defaults():
    cfg = load_config()
    assert (cfg.model._target_, cfg.optimizer._target_, cfg.scheduler._target_) == (
        "reproml.models.CNN",
        "torch.optim.Adam",
        "reproml.schedules.cosine",
    )
    assert "lr_schedule" not in cfg.trainer
    validate_config(cfg)


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_every_option_composes_validates_and_builds(group, name):
    cfg = validate_config(load_config([f"{group}={name}"]))
    model = build_part(cfg.model, "model")
    optimizer = build_part(cfg.optimizer, "optimizer")(model.parameters())
    build_part(cfg.scheduler, "scheduler")(optimizer, 10)
    build_tracker(OmegaConf.to_container(cfg.tracking))
    augmentation(OmegaConf.to_container(cfg.augment))


def test_the_parts_are_named_by_their_target_and_nothing_else_has_one():
    """Hydra's ``_target_`` builds the model, optimizer, schedule and tracker; the other groups
    are plain values (reproml.parts refuses a target anywhere else in a classmate's run)."""
    for path in CONF.rglob("*.yaml"):
        if "hydra" in path.relative_to(CONF).parts:
            continue  # Hydra's own groups (help, launchers)
        loaded = OmegaConf.to_container(OmegaConf.load(path))
        loaded.pop("hydra", None)  # Hydra's callbacks are Hydra's, not the course's parts
        group = path.parent.name
        if group in TARGETS:
            assert isinstance(loaded.get("_target_"), str) and "name" not in loaded, path
            loaded.pop("_target_")
        assert "_target_" not in str(loaded), path


@pytest.mark.parametrize("group", sorted(TARGETS))
def test_option_reads_an_option_file_as_a_plain_dict(group):
    for path in (CONF / group).glob("*.yaml"):
        read = option(group, path.stem)
        assert type(read) is dict
        assert read == OmegaConf.to_container(OmegaConf.load(path))
        assert read == OmegaConf.to_container(load_config([f"{group}={path.stem}"])[group])


def test_an_unknown_option_names_the_ones_there_are():
    with pytest.raises(
        ConfigError, match="No option 'resnet' in model: choose one of cnn, logreg, mlp"
    ):
        option("model", "resnet")


def test_flat_params_name_each_part_and_leave_out_how_it_is_built():
    flat = flatten_config(load_config(["model=mlp", "optimizer=sgd", "scheduler=constant"]))
    assert (flat["model.name"], flat["optimizer.name"], flat["scheduler.name"]) == (
        "mlp",
        "sgd",
        "constant",
    )
    assert flat["tracking.name"] == "mlflow"
    assert flat["model._target_"] == "reproml.models.MLP"
    assert flat["model.hidden_sizes"] == [256, 128]
    assert not [key for key in flat if key.endswith("_partial_")]
    assert "data.name" not in flat and "trainer.name" not in flat  # groups without a target


def test_a_part_of_your_own_is_named_after_its_class():
    config = {"model": {"_target_": "my_project.nets.ResNet", "depth": 18}, "seed": 1}
    assert flatten_config(config) == {
        "model._target_": "my_project.nets.ResNet",
        "model.depth": 18,
        "model.name": "resnet",
        "seed": 1,
    }
    assert flatten_config(config, exclude=["model"]) == {"seed": 1}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_validates(experiment):
    validate_config(load_config([f"experiment={experiment}"]))


def test_quick_mode_is_small():
    cfg = load_config(["experiment=quick"])
    assert cfg.trainer.epochs == 1
    assert cfg.data.train_size <= 1000 and cfg.data.test_size <= 1000


def test_each_optimizer_option_holds_only_its_own_parameters():
    sgd = load_config(["optimizer=sgd"]).optimizer
    adam = load_config(["optimizer=adam"]).optimizer
    assert "betas" not in sgd and "momentum" in sgd
    assert "momentum" not in adam and "betas" in adam


def test_overrides_reach_the_config():
    cfg = load_config(["model=mlp", "optimizer=sgd", "optimizer.lr=0.05", "trainer.epochs=3"])
    assert (cfg.model._target_, cfg.optimizer._target_, cfg.optimizer.lr, cfg.trainer.epochs) == (
        "reproml.models.MLP",
        "torch.optim.SGD",
        0.05,
        3,
    )


def test_compose_does_not_change_the_working_directory():
    before = os.getcwd()
    load_config(["model=mlp"])
    assert os.getcwd() == before


def test_unknown_option_lists_the_available_ones():
    with pytest.raises(MissingConfigException, match="Could not find 'model/resnet'") as error:
        load_config(["model=resnet"])
    assert all(name in str(error.value) for name in ("logreg", "mlp", "cnn"))


def test_unknown_key_is_refused():
    with pytest.raises(ConfigCompositionException, match=r"trainer\.epoch"):
        load_config(["trainer.epoch=3"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optimizer.lr=-1", "optimizer.lr must be a number > 0, got -1"),
        ("optimizer.lr=abc", "optimizer.lr must be a number > 0, got 'abc'"),
        ("trainer.epochs=0", "trainer.epochs must be an integer >= 1, got 0"),
        ("trainer.epochs=2.5", "trainer.epochs must be an integer >= 1, got 2.5"),
        ("trainer.batch_size=true", "trainer.batch_size must be an integer >= 1, got True"),
        ("data.val_fraction=1", "data.val_fraction must be a number in [0, 1), got 1"),
        ("data.train_size=0", "data.train_size must be null or an integer >= 1, got 0"),
        ("model.dropout=1.5", "model.dropout must be a number in [0, 1), got 1.5"),
        ("model.channels=[32,-1]", "model.channels must be a list of integers >= 1"),
        ("optimizer.betas=[0.9]", "optimizer.betas must be two numbers in [0, 1)"),
        ("trainer.device=gpu", "trainer.device must be auto, cpu, cuda, cuda:<index> or mps"),
        ("model.hidden=abc", "model.hidden must be an integer >= 1, got 'abc'"),
        (
            "+model.depth=3",
            "model 'cnn' has no parameter depth; it takes: channels, hidden, dropout",
        ),
        ("+optimizer.momentum=0.9", "optimizer 'adam' has no parameter momentum; it takes: lr,"),
        ("tracking.log_model=yes", "tracking.log_model must be true or false, got 'yes'"),
        ("trainer.label_smoothing=1", "trainer.label_smoothing must be a number in [0, 1)"),
        ("augment.hflip=1", "augment.hflip must be true or false, got 1"),
        ("augment.shift=-1", "augment.shift must be an integer from 0 to 8, got -1"),
        ("seed=null", "seed must be an integer, got None"),
    ],
)
def test_bad_values_fail_clearly(override, message):
    with pytest.raises(ConfigError) as error:
        validate_config(load_config([override]))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_all_problems_in_one_message():
    with pytest.raises(ConfigError, match=r"optimizer.lr .*; trainer.epochs"):
        validate_config(load_config(["optimizer.lr=0", "trainer.epochs=-2"]))


def test_missing_keys_are_reported():
    with pytest.raises(ConfigError) as error:
        validate_config(
            {
                "seed": 1,
                "data": {},
                "model": option("model", "cnn"),
                "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True},
                "trainer": {"batch_size": 2},
            }
        )
    assert str(error.value) == (
        "Invalid configuration: optimizer.lr is missing; trainer.epochs is missing."
    )


def test_the_old_name_form_is_told_how_to_choose_an_option():
    with pytest.raises(ConfigError) as error:
        validate_config(
            {
                "seed": 1,
                "data": {},
                "model": {"name": "cnn"},
                "optimizer": {"name": "adam", "lr": 0.1},
                "trainer": {"batch_size": 2, "epochs": 1},
            }
        )
    message = str(error.value)
    assert (
        "model._target_ is missing (model.name is the course's old form: choose the option "
        "with reproml.config.option('model', 'cnn'), or model=cnn in Hydra)"
    ) in message
    assert "optimizer._target_ is missing (optimizer.name is the course's old form" in message
    assert "\n" not in message


def test_a_part_of_your_own_is_not_held_to_a_course_schema():
    cfg = load_config(["model._target_=my_project.nets.ResNet", "+model.depth=18"])
    del cfg.model.channels
    assert validate_config(cfg).model.depth == 18


def test_validation_returns_a_resolved_copy_without_hydra_node():
    cfg = OmegaConf.create({**OmegaConf.to_container(load_config()), "hydra": {"x": 1}})
    cfg.trainer.epochs = "${seed}"
    cfg.seed = 2
    checked = validate_config(cfg)
    assert checked.trainer.epochs == 2 and "hydra" not in checked


def test_config_dir_is_the_repository_conf():
    assert Path(__file__).resolve().parents[1] / "conf" == CONF
