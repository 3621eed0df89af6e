from __future__ import annotations

import re

import pytest
import torch
from mlflow import MlflowClient
from omegaconf import DictConfig, OmegaConf

from reproml.base.errors import ConfigError
from reproml.config import load_config, validate_config
from reproml.experiment import run_experiment
from reproml.parts import UntrustedConfig, check_trusted_config
from reproml.schema import option_name
from reproml.tracking.stores import TrackingError
from reproml_course.chapters.audit import rerun
from reproml_course.chapters.audit.rerun import upgraded_config
from reproml_course.cli.rerun import main as rerun_main


@pytest.fixture
def logged_run(tracked_config, data):
    cfg = tracked_config("mlflow", ["model=mlp", "trainer.epochs=2", "tracking.log_model=false"])
    return run_experiment(cfg, data=data)


def test_a_rerun_reproduces_every_metric_exactly(logged_run, mlflow_uri):
    comparison = rerun(logged_run.run_id)
    assert comparison.identical
    names = {m.name for m in comparison.metrics}
    assert {"test_accuracy", "test_macro_f1", "train_loss@1", "val_accuracy@2"} <= names
    assert comparison.environment == {}
    assert comparison.rerun_id not in (None, logged_run.run_id)
    assert "11 of 11 metrics identical" in str(comparison)


def test_a_changed_seed_is_reported_metric_by_metric(logged_run):
    comparison = rerun(logged_run.run_id, overrides={"seed": 7}, log=False)
    assert not comparison.identical
    assert comparison.rerun_id is None
    assert "DIFFERS" in str(comparison)


def test_an_unknown_run_is_one_clear_error():
    with pytest.raises(TrackingError, match="Cannot re-run 'nope'"):
        rerun("nope")


def test_cli_exit_status_follows_diff(logged_run, capsys):
    assert rerun_main([logged_run.run_id, "--no-log"]) == 0
    assert "identical" in capsys.readouterr().out
    assert rerun_main(["nope"]) == 2


# Configurations from before the course named its parts by _target_, and from someone else.


def old_form(config: DictConfig) -> DictConfig:
    """``config`` as the course logged it before ``_target_``: ``name:`` and
    ``trainer.lr_schedule``."""
    old = OmegaConf.create(OmegaConf.to_container(config))
    for group in ("model", "optimizer", "tracking"):
        node = OmegaConf.to_container(old[group])
        node.pop("_partial_", None)
        node = {"name": option_name(group, node), **node}
        node.pop("_target_")
        old[group] = node
    old.trainer.lr_schedule = option_name("scheduler", old.pop("scheduler"))
    return old


def test_an_old_configuration_is_upgraded_to_targets():
    today = load_config(["model=mlp", "optimizer=sgd", "scheduler=constant", "tracking=txt"])
    old = old_form(today)
    assert old.model.name == "mlp" and old.trainer.lr_schedule == "constant"
    assert "_target_" not in OmegaConf.to_yaml(old) and "scheduler" not in old
    upgraded = upgraded_config(old)
    assert upgraded == today
    assert upgraded.optimizer._partial_ is True and "lr_schedule" not in upgraded.trainer
    assert old.model.name == "mlp" and "scheduler" not in old  # a copy: the original is kept
    assert upgraded_config(today) == today  # today's form is left as it is


def test_an_old_name_the_course_never_had_is_left_for_validation_to_refuse():
    old = old_form(load_config())
    old.model.name = "resnet"
    upgraded = upgraded_config(old)
    assert upgraded.model.name == "resnet" and "_target_" not in upgraded.model
    with pytest.raises(ConfigError, match=r"model\._target_ is missing \(model\.name is the"):
        validate_config(upgraded)


def test_a_target_outside_the_course_is_refused_unless_trusted():
    config = upgraded_config(old_form(load_config()))
    check_trusted_config(config)
    config.model = {"_target_": "os.system", "command": "true"}
    with pytest.raises(UntrustedConfig, match=r"model 'os\.system' is not one of the course's"):
        check_trusted_config(upgraded_config(config))


def copied_run(client: MlflowClient, run_id: str, config: str) -> str:
    """A run with the metrics (every epoch), the tags and the parameters of run ``run_id``, but
    ``config`` as its logged config.yaml: what anyone who can log to the store can make."""
    from mlflow.entities import RunTag

    original = client.get_run(run_id)
    copy = client.create_run(original.info.experiment_id, run_name="copied").info.run_id
    history = [m for key in original.data.metrics for m in client.get_metric_history(run_id, key)]
    tags = [RunTag(k, v) for k, v in original.data.tags.items() if not k.startswith("mlflow.")]
    client.log_batch(copy, metrics=history, tags=tags)
    client.log_text(copy, config, "config.yaml")
    client.set_terminated(copy)
    return copy


def logged_config(client: MlflowClient, run_id: str, tmp_path) -> DictConfig:
    return OmegaConf.load(client.download_artifacts(run_id, "config.yaml", str(tmp_path)))


def test_a_run_logged_before_targets_reruns_identically(logged_run, mlflow_uri, tmp_path):
    client = MlflowClient(mlflow_uri)
    old = old_form(logged_config(client, logged_run.run_id, tmp_path))
    assert old.model.name == "mlp" and old.trainer.lr_schedule == "cosine"
    old_run = copied_run(client, logged_run.run_id, OmegaConf.to_yaml(old))
    comparison = rerun(old_run, log=False)
    assert comparison.identical and len(comparison.metrics) == 11


def test_a_logged_configuration_aimed_at_a_shell_is_refused_before_anything_runs(
    logged_run, mlflow_uri, tmp_path, capsys
):
    client = MlflowClient(mlflow_uri)
    marker = tmp_path / "PAYLOAD_RAN"
    forged = logged_config(client, logged_run.run_id, tmp_path)
    forged.model = {"_target_": "os.system", "command": f"touch {marker}"}
    forged_id = copied_run(client, logged_run.run_id, OmegaConf.to_yaml(forged))
    experiment = client.get_run(forged_id).info.experiment_id
    runs_before = len(client.search_runs([experiment]))
    with pytest.raises(UntrustedConfig, match=r"model 'os\.system' is not one of the course's"):
        rerun(forged_id)
    assert rerun_main([forged_id]) == 2
    assert "model 'os.system' is not one of the course's models" in capsys.readouterr().err
    assert not marker.exists()
    assert len(client.search_runs([experiment])) == runs_before  # no re-run was started


class Tiny(torch.nn.Module):
    """A model of your own: not one of the course's."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(784, width), torch.nn.Linear(width, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_a_run_of_your_own_model_reruns_when_you_trust_the_store(tracked_config, data, capsys):
    own = f"{__name__}.Tiny"
    cfg = tracked_config(
        "mlflow", ["model=logreg", f"model._target_={own}", "+model.width=3",
                   "tracking.log_model=false"]
    )  # fmt: skip
    run_id = run_experiment(cfg, data=data).run_id
    with pytest.raises(
        UntrustedConfig, match=re.escape(f"model '{own}' is not one of the course's")
    ):
        rerun(run_id, log=False)
    assert rerun(run_id, log=False, trust=True).identical
    assert rerun_main([run_id, "--no-log", "--trust"]) == 0
    assert "identical" in capsys.readouterr().out


def test_a_rerun_can_itself_be_rerun(logged_run):
    """A re-run logs its configuration with ``tracking.tags: {rerun_of: <id>}``."""
    first = rerun(logged_run.run_id)
    assert rerun(first.rerun_id, log=False).identical
