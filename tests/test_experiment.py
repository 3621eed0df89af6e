from __future__ import annotations

import pytest

import reproml.config
import reproml.experiment
import reproml.training
from reproml.errors import ConfigError
from reproml.experiment import ExperimentResult, build_tracker, run_experiment
from reproml.tracking.base import NoTracker
from reproml.tracking.txt import TxtTracker


def test_the_tracking_group_names_a_tracker_of_the_course():
    assert isinstance(build_tracker(None), NoTracker)
    assert isinstance(build_tracker({"name": "none"}), NoTracker)
    tracker = build_tracker({"name": "txt", "folder": "somewhere"})
    assert isinstance(tracker, TxtTracker) and str(tracker.folder) == "somewhere"


@pytest.mark.parametrize(
    ("tracking", "message"),
    [
        ({"name": "wandb"}, "Unknown tracker 'wandb'. Available trackers: none, txt, mlflow"),
        ({"_target_": "os.system", "command": "true"}, "Unknown tracker None"),
        ({"name": "txt", "folderr": "x"}, "tracker 'txt' has no parameter folderr; it takes: "),
    ],
)
def test_a_bad_tracking_group_gets_one_clear_message(tracking, message):
    with pytest.raises(ConfigError, match=message):
        build_tracker(tracking)


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
