"""Copying a run whole from one store to another (what sync uploads), between two real stores."""

import mlflow
from mlflow import MlflowClient

from reproml.experiment import run_experiment
from reproml.tracking.stores import SYNC_TO
from reproml_course.classroom.sync import COPIED_FROM, SYNCED_AS, copy_run, sync_runs, waiting_runs


def test_a_copied_run_has_everything(make_config, mlflow_uri, tmp_path, data):
    result = run_experiment(make_config(["tracking=mlflow", "trainer.epochs=3"]))
    target_uri = f"sqlite:///{tmp_path / 'target.db'}"
    new_id = copy_run(mlflow_uri, result.run_id, target_uri, "copied")

    source, target = MlflowClient(mlflow_uri), MlflowClient(target_uri)
    old, new = source.get_run(result.run_id), target.get_run(new_id)
    assert new.info.status == "FINISHED" and new.info.end_time == old.info.end_time
    assert new.data.params == old.data.params
    assert new.data.metrics == old.data.metrics
    for key in old.data.metrics:
        history = [(m.step, m.value) for m in target.get_metric_history(new_id, key)]
        assert history == [(m.step, m.value) for m in source.get_metric_history(result.run_id, key)]
    assert new.data.tags[COPIED_FROM] == result.run_id
    assert {a.path for a in target.list_artifacts(new_id)} == {
        a.path for a in source.list_artifacts(result.run_id)
    }
    assert len(new.inputs.dataset_inputs) == 2
    mlflow.set_tracking_uri(target_uri)
    model = mlflow.pytorch.load_model(new.data.tags["model_uri"])
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in result.model.parameters()
    )


def test_only_waiting_runs_are_uploaded_and_only_once(make_config, mlflow_uri, tmp_path):
    local = mlflow_uri
    target_uri = f"sqlite:///{tmp_path / 'server.db'}"
    kept = run_experiment(make_config(["tracking=mlflow", "tracking.log_model=false"]))
    plain = run_experiment(make_config(["tracking=mlflow", "tracking.log_model=false"]))
    MlflowClient(local).set_tag(kept.run_id, SYNC_TO, target_uri)
    assert [r.info.run_id for r in waiting_runs(local)] == [kept.run_id]

    (synced,) = sync_runs(local)
    assert synced.local_id == kept.run_id and synced.server == target_uri
    assert MlflowClient(local).get_run(kept.run_id).data.tags[SYNCED_AS] == synced.server_id
    assert sync_runs(local) == [] and plain.run_id != kept.run_id


def test_a_refused_retirement_is_said_once_and_nothing_is_uploaded_twice(
    make_config, mlflow_uri, tmp_path
):
    from reproml.tracking.stores import SERVER_RUN

    target_uri = f"sqlite:///{tmp_path / 'server.db'}"
    kept = run_experiment(make_config(["tracking=mlflow", "tracking.log_model=false"]))
    client = MlflowClient(mlflow_uri)
    client.set_tag(kept.run_id, SYNC_TO, target_uri)
    client.set_tag(kept.run_id, SERVER_RUN, "0123456789abcdef0123456789abcdef")  # gone there
    (synced,) = sync_runs(mlflow_uri)
    assert synced.note.startswith(
        "the half-logged run 0123456789abcdef0123456789abcdef could not be marked FAILED ("
    )
    assert sync_runs(mlflow_uri) == []
    assert len(MlflowClient(target_uri).search_runs(["1"])) == 1


def test_a_sync_that_stopped_before_marking_reuses_the_servers_copy(
    make_config, mlflow_uri, tmp_path
):
    target_uri = f"sqlite:///{tmp_path / 'server.db'}"
    kept = run_experiment(make_config(["tracking=mlflow", "tracking.log_model=false"]))
    MlflowClient(mlflow_uri).set_tag(kept.run_id, SYNC_TO, target_uri)
    first = copy_run(mlflow_uri, kept.run_id, target_uri, "reproml")  # then the sync died
    (synced,) = sync_runs(mlflow_uri)
    assert synced.server_id == first
    experiment = MlflowClient(target_uri).get_experiment_by_name("reproml").experiment_id
    assert len(MlflowClient(target_uri).search_runs([experiment])) == 1


def test_nothing_to_sync_creates_nothing(tmp_path):
    store = tmp_path / "outputs" / "unsynced" / "mlflow.db"
    assert sync_runs(f"sqlite:///{store}") == []
    assert not store.exists() and not store.parent.exists()
