"""MLflow tracking against real stores: a SQLite file, and (slow) a real ``mlflow server``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest
import torch
from mlflow import MlflowClient
from omegaconf import OmegaConf

from reproml.base.errors import ConfigError
from reproml.config import load_config
from reproml.experiment import run_experiment
from reproml.provenance import package_version
from reproml.tracking.record import flat_params
from reproml.tracking.stores import TrackingError, check_tracking_uri
from reproml.training import Callback, predict

BASE = ["experiment=quick", "trainer.device=cpu", "trainer.progress=false", "data.download=false"]


@pytest.fixture(scope="module")
def logged(synthetic, data, tmp_path_factory):
    """One fully logged run (model included), shared by the tests that only read it."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    cfg = load_config(
        [
            *BASE,
            f"data.root={synthetic.root}",
            "trainer.epochs=3",
            "tracking=mlflow",
            f"tracking.uri={uri}",
            "tracking.experiment=logged",
        ]
    )
    result = run_experiment(cfg, data=data)
    return result, MlflowClient(uri).get_run(result.run_id), MlflowClient(uri)


def test_the_run_finished_and_is_found_by_id(logged):
    result, run, _ = logged
    assert run.info.status == "FINISHED"
    assert result.saved_to.startswith(f"MLflow run {result.run_id}")


def test_logged_params_are_the_configuration_that_ran(logged):
    result, run, _ = logged
    assert run.data.params == flat_params(result.config)
    assert run.data.params["trainer.epochs"] == "3" == str(len(result.history))
    assert "tracking.uri" not in run.data.params


def test_each_part_is_logged_with_its_target_and_its_options_name(logged):
    """``model.name`` (derived from ``model._target_``) is what runs are compared and searched
    by; Hydra's ``_partial_`` says how a part is built, not what, and is not a parameter."""
    _, run, _ = logged
    params = run.data.params
    assert (params["model.name"], params["model._target_"]) == ("cnn", "reproml.models.CNN")
    assert (params["optimizer.name"], params["optimizer._target_"]) == ("adam", "torch.optim.Adam")
    assert params["scheduler.name"] == "cosine"
    assert not [key for key in params if key.endswith("_partial_") or "lr_schedule" in key]
    assert run.info.run_name == "cnn-adam"  # the default run name: <model>-<optimizer>


def test_epoch_metrics_are_stepped_and_final_metrics_logged(logged):
    result, run, client = logged
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [(m.step, m.value) for m in history] == [
        (r.epoch, r.val_accuracy) for r in result.history
    ]
    assert run.data.metrics["test_accuracy"] == result.metrics["test_accuracy"]
    assert run.data.metrics["test_macro_f1"] == result.metrics["test_macro_f1"]


def test_tags_trace_code_environment_and_data(logged):
    result, run, _ = logged
    tags = run.data.tags
    assert len(tags["git_commit"]) == 40 and tags["git_dirty"] in ("true", "false")
    assert len(tags["uv_lock_sha256"]) == 64
    assert tags["torch"] == package_version("torch")
    assert tags["python"] == ".".join(map(str, sys.version_info[:3]))
    assert tags["device"] == "cpu"
    assert tags["threads"] == str(torch.get_num_threads())  # what the run used (fit sets it)
    assert tags["data_digest"] == result.data_digest


def test_artifacts_config_figures_and_confusion_matrix(logged):
    result, run, client = logged
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "config.yaml",
        "confusion_matrix.json",
        "confusion_matrix.png",
        "learning_curves.png",
    } <= names
    mlflow.set_tracking_uri(client.tracking_uri)
    run_uri = f"runs:/{run.info.run_id}"
    config = OmegaConf.create(mlflow.artifacts.load_text(f"{run_uri}/config.yaml"))
    assert config == result.config
    matrix = json.loads(mlflow.artifacts.load_text(f"{run_uri}/confusion_matrix.json"))
    assert matrix["matrix"] == result.confusion_matrix.tolist()


def test_the_data_set_is_a_run_input(logged):
    _, run, _ = logged
    inputs = {i.dataset.name: [t.value for t in i.tags] for i in run.inputs.dataset_inputs}
    assert inputs == {"fashion-mnist-training": ["training"], "fashion-mnist-testing": ["testing"]}


def test_the_logged_model_reloads_and_predicts_the_same(logged, data):
    result, run, client = logged
    mlflow.set_tracking_uri(client.tracking_uri)
    reloaded = mlflow.pytorch.load_model(run.data.tags["model_uri"])
    expected = predict(result.model, data.test, batch_size=37)  # batches of any size
    assert torch.equal(predict(reloaded, data.test, batch_size=37), expected)


def test_search_runs_finds_the_best_run(tracked_config, data, mlflow_uri):
    accuracies = {}
    for lr in (0.0001, 0.01):
        cfg = tracked_config(
            "mlflow", ["model=logreg", f"optimizer.lr={lr}", "tracking.log_model=false"]
        )
        accuracies[run_experiment(cfg, data=data).run_id] = lr
    runs = mlflow.search_runs(experiment_names=["reproml"], order_by=["metrics.test_accuracy DESC"])
    assert len(runs) == 2
    assert set(runs["params.model.name"]) == {"logreg"}  # the name a search filters on
    best = runs.iloc[0]
    assert best["metrics.test_accuracy"] == runs["metrics.test_accuracy"].max()
    assert best["params.optimizer.lr"] == str(accuracies[best["run_id"]])


class FailAt(Callback):
    def __init__(self, error: BaseException):
        self.error = error

    def on_batch_end(self, epoch, batch, loss):
        if batch == 2:
            raise self.error


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("boom"), "FAILED"), (KeyboardInterrupt(), "KILLED")]
)
def test_an_interrupted_run_is_never_left_running(tracked_config, data, error, status):
    cfg = tracked_config("mlflow", ["model=logreg", "tracking.log_model=false"])
    with pytest.raises(type(error)):
        run_experiment(cfg, data=data, callbacks=[FailAt(error)])
    assert mlflow.active_run() is None  # the next cell's run can start
    [run] = MlflowClient().search_runs([mlflow.get_experiment_by_name("reproml").experiment_id])
    assert run.info.status == status
    assert "train_loss" not in run.data.metrics  # it stopped inside the first epoch


def test_a_run_puts_back_the_tracking_uri_it_found(tracked_config, data, tmp_path):
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    mlflow.set_tracking_uri(elsewhere)
    cfg = tracked_config("mlflow", ["model=logreg", "tracking.log_model=false"])
    cfg.tracking.uri = f"sqlite:///{tmp_path / 'store.db'}"
    result = run_experiment(cfg, data=data)
    assert mlflow.get_tracking_uri() == elsewhere
    assert MlflowClient(cfg.tracking.uri).get_run(result.run_id).info.status == "FINISHED"
    with pytest.raises(RuntimeError):
        run_experiment(cfg, data=data, callbacks=[FailAt(RuntimeError("boom"))])
    assert mlflow.get_tracking_uri() == elsewhere


def test_inside_a_users_own_run_the_run_is_a_child(tracked_config, data):
    mlflow.set_experiment("parent")
    with mlflow.start_run() as parent:
        result = run_experiment(
            tracked_config("mlflow", ["model=logreg", "tracking.log_model=false"]), data=data
        )
        assert mlflow.active_run().info.run_id == parent.info.run_id
    child = MlflowClient().get_run(result.run_id)
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_a_server_that_does_not_answer_is_detected_before_training(make_config, free_port):
    cfg = make_config(
        [
            "tracking=mlflow",
            f"tracking.uri=http://127.0.0.1:{free_port()}",
            "data.root=/nonexistent",
        ]
    )
    with pytest.raises(TrackingError, match="MLflow tracking server unreachable"):
        run_experiment(cfg)  # TrackingError, not a DataError: checked before the data


@pytest.mark.parametrize("uri", ["localhost:5000", "htp://127.0.0.1:5000", "mlruns"])
def test_a_malformed_uri_is_one_clear_message(uri):
    with pytest.raises(TrackingError, match="is not understood"):
        check_tracking_uri(uri)


def test_an_unwritable_store(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TrackingError, match="Cannot write the MLflow store"):
        check_tracking_uri(f"sqlite:///{blocker}/mlflow.db")


def test_an_empty_experiment_name_is_refused(make_config):
    with pytest.raises(ConfigError, match=r"tracking\.experiment"):
        run_experiment(make_config(["tracking=mlflow", "tracking.experiment="]))


@pytest.mark.slow
def test_logging_to_a_real_mlflow_server(tracked_config, data, tmp_path, free_port):
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "mlflow server did not start"
                assert server.poll() is None, "mlflow server exited"
                time.sleep(0.5)
        cfg = tracked_config("mlflow", ["model=logreg", f"tracking.uri={uri}"])
        result = run_experiment(cfg, data=data)
        run = MlflowClient(uri).get_run(result.run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics["test_accuracy"] == result.metrics["test_accuracy"]
        assert {a.path for a in MlflowClient(uri).list_artifacts(result.run_id)} >= {"config.yaml"}
        assert any((tmp_path / "server-artifacts").rglob("config.yaml"))  # served by the server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_team_set_in_the_environment_chooses_the_experiment(make_config, monkeypatch):
    from reproml.experiment import build_tracker

    tracking = make_config(["tracking=mlflow"]).tracking
    assert build_tracker(tracking).experiment == "reproml"
    monkeypatch.setenv("REPROML_TEAM", "red")
    assert build_tracker(tracking).experiment == "competition/red"
    tracking.experiment = "mine"  # an explicit choice wins
    assert build_tracker(tracking).experiment == "mine"
