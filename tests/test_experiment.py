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
