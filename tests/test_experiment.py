from __future__ import annotations

from typing import ClassVar

import pytest

import reproml.config
import reproml.experiment
import reproml.training
from reproml.base.errors import ConfigError
from reproml.config import option
from reproml.experiment import ExperimentResult, build_tracker, run_experiment
from reproml.tracking.base import Kept, NoTracker, Tracker
from reproml.tracking.txt import TxtTracker


def test_the_tracking_group_names_a_tracker_of_the_course():
    assert isinstance(build_tracker(None), NoTracker)
    assert isinstance(build_tracker({}), NoTracker)  # no group, no tracking
    assert isinstance(build_tracker(option("tracking", "none")), NoTracker)
    tracker = build_tracker({**option("tracking", "txt"), "folder": "somewhere"})
    assert isinstance(tracker, TxtTracker) and str(tracker.folder) == "somewhere"
    assert tracker.params["model"] == "model.name"


class KeptInMemory(Tracker):
    """A tracker of your own, named by its ``_target_`` like the course's."""

    kept: ClassVar[list[tuple[str, dict]]] = []

    def __init__(self, label: str) -> None:
        self.label = label

    def finish(self, result):
        KeptInMemory.kept.append((self.label, dict(result.metrics)))
        return Kept(f"in memory as {self.label}")


def test_a_tracker_of_your_own_is_built_from_its_target_and_used(make_config, data):
    config = make_config(["model=logreg", "tracking=none"])
    config.tracking = {"_target_": f"{__name__}.KeptInMemory", "label": "mine"}
    result = run_experiment(config, data=data)
    assert result.saved_to == "in memory as mine"
    assert KeptInMemory.kept[-1] == ("mine", result.metrics)


TRACKERS = "mlflow (reproml.tracking.mlflow.MlflowTracker), none (reproml.tracking.base.NoTracker)"


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        (
            {"_target_": "reproml.tracking.wandb.WandbTracker"},
            "Cannot build tracking 'reproml.tracking.wandb.WandbTracker'",
        ),
        ({"name": "mlflow"}, "tracking has no _target_ to build"),
        ({"_target_": "builtins.dict"}, "'builtins.dict' built a dict, not a tracker"),
        (
            {"_target_": "reproml.tracking.txt.TxtTracker", "folderr": "x"},
            "tracking 'txt' has no parameter folderr; it takes: folder, params.",
        ),
    ],
)
def test_a_bad_tracking_group_gets_one_clear_message(tracking, message):
    with pytest.raises(ConfigError) as error:
        build_tracker(tracking)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    if "built a" not in message and "no parameter" not in message:
        assert TRACKERS in str(error.value)


def test_a_tracking_group_aimed_at_a_shell_runs_nothing(tmp_path):
    """Hydra refuses a few known-dangerous targets itself, even in your own configuration."""
    marker = tmp_path / "ran"
    with pytest.raises(ConfigError, match=r"Cannot build tracking 'os\.system'"):
        build_tracker({"_target_": "os.system", "command": f"touch {marker}"})
    assert not marker.exists()


def test_a_run_validates_its_configuration_once(make_config, data, monkeypatch):
    calls = []

    def counting(config):
        calls.append(1)
        return reproml.config.validate_config(config)

    monkeypatch.setattr(reproml.experiment, "validate_config", counting)
    monkeypatch.setattr(reproml.training, "validate_config", counting)
    result = run_experiment(make_config(["model=logreg", "tracking=none"]), data=data)
    assert len(calls) == 1
    assert isinstance(result, ExperimentResult) and result.saved_to is None


def test_a_competition_run_that_would_be_tested_is_refused_before_training(
    make_config, data, tmp_path
):
    """Its test accuracy would be on the class server for everyone to choose by."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = make_config(
        ["model=logreg", "tracking=mlflow", f"tracking.uri={uri}",
         "tracking.experiment=competition/red"]
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"data\.test must be false for a run logged to"):
        run_experiment(config, data=data)
    assert not (tmp_path / "mlflow.db").exists()  # refused before anything was written


def test_a_run_not_tested_computes_nothing_on_the_test_set(make_config, data, tmp_path):
    import json
    from pathlib import Path

    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = make_config(
        ["model=logreg", "data.test=false", "tracking=mlflow", f"tracking.uri={uri}",
         "tracking.experiment=competition/red"]
    )  # fmt: skip
    result = run_experiment(config, data=data)
    assert set(result.metrics) == {"val_accuracy"} and result.confusion_split == "validation"
    assert int(result.confusion_matrix.sum()) == len(data.val)
    client = MlflowClient(uri)
    run = client.get_run(result.run_id)
    assert not [k for k in run.data.metrics if k.startswith("test")]
    path = client.download_artifacts(result.run_id, "confusion_matrix.json", str(tmp_path))
    assert json.loads(Path(path).read_text())["split"] == "validation"
