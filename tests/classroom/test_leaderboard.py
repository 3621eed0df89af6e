"""The verified leaderboard on a local store: honest runs ranked on the whole test set, every
forgery flagged with its reason, nothing of a student's model executed, each run verified once.
"""

from __future__ import annotations

import subprocess
import sys

import mlflow
import pytest
from forgeries import (
    exported,
    forged_run,
    model_file,
    model_params,
    pickled_weight,
    rewrite_archive,
    train,
)
from mlflow import MlflowClient

from reproml.classroom.evaluator import Limits
from reproml.classroom.leaderboard import (
    format_leaderboard,
    plot_leaderboard,
    read_leaderboard,
    verify_competition,
)
from reproml.classroom.model_files import MODEL_FILE
from reproml.classroom.records import VERDICT_TAG, VERIFIED_TAG, records_experiment

MLMODEL = b"flavors: {pytorch: {model_data: data}}\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory, synthetic):
    """Two honest teams, and every kind of forgery, in one local store; verified once."""
    folder = tmp_path_factory.mktemp("competition")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    marker = folder / "PAYLOAD_RAN"
    honest = train(synthetic.root, uri, "red", "tracking.run_name=honest")
    twin = train(synthetic.root, uri, "blue", "tracking.run_name=twin")  # same config and seed
    subset = train(synthetic.root, uri, "green", "tracking.run_name=subset", "data.test_size=40")
    pt2 = model_file(uri, honest.run_id)
    model_uri = MlflowClient(uri).get_run(honest.run_id).data.tags["model_uri"]
    payload = pickled_weight(pt2, marker)  # its first weight unpickles into `touch marker`
    forged = {
        "inflated": dict(
            files={"MLmodel": MLMODEL, MODEL_FILE: pt2}, metrics={"test_accuracy": 0.99}
        ),
        "borrowed": dict(files=None, tags={"model_uri": model_uri}),
        "by-hand": dict(files=None, metrics={"test_accuracy": 0.99}),
        "pickle-format": dict(files={"MLmodel": MLMODEL, "data/model.pth": payload}),
        "code-paths": dict(
            files={
                "MLmodel": MLMODEL,
                MODEL_FILE: pt2,
                "pickle_module_info.txt": b"evil",
                "code/evil.py": f"import os; os.system('touch {marker}')".encode(),
            }
        ),
        "pickled-weight": dict(files={MODEL_FILE: payload}),
        "compiled": dict(
            files={
                MODEL_FILE: rewrite_archive(
                    pt2, lambda e: e.update({"model/data/aotinductor/m/m.so": b"ELF"})
                )
            }
        ),
        "bad-test-size": dict(files={MODEL_FILE: pt2}, params={"data.test_size": "abc"}),
        "unknown-model": dict(files={MODEL_FILE: pt2}, params={"model.name": "evil"}),
        "wrong-weights": dict(
            files={MODEL_FILE: pt2},  # a CNN's weights, for a run that says it trained an MLP
            copy_from=None,
            params={
                "model.name": "mlp",
                "model.hidden_sizes": "[256, 128]",
                "data.test_size": "None",
            },
            metrics={"test_accuracy": honest.metrics["test_accuracy"]},
        ),
        "broken-params": dict(files={MODEL_FILE: pt2}, params={"model.channels": "[1, 2"}),
        "nudged": dict(files={"MLmodel": MLMODEL, MODEL_FILE: rewrite_archive(pt2, one_ulp)}),
    }
    ids = {
        name: forged_run(uri, "yellow", run_name=name, **{"copy_from": honest.run_id, **kwargs})
        for name, kwargs in forged.items()
    }
    sabotage = exported({"name": "cnn"})  # fresh weights, claimed for red's honest run
    forged_run(uri, "yellow", {MODEL_FILE: sabotage}, copy_from=honest.run_id, run_name="decoy")
    client = MlflowClient(uri)
    yellow = client.get_experiment_by_name("competition/yellow").experiment_id
    decoy = client.create_logged_model(yellow, name="model", source_run_id=honest.run_id)
    client.log_model_artifact(decoy.model_id, _write(folder / "decoy.pt2", sabotage), "data")
    client.finalize_logged_model(decoy.model_id, "READY")
    practice = MlflowClient(uri).create_experiment("practice")  # not a competition experiment
    run = MlflowClient(uri).create_run(practice)
    MlflowClient(uri).set_terminated(run.info.run_id)
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'elsewhere.db'}")  # the global URI is not ours
    report = verify_competition(uri, data_root=str(synthetic.root))
    verdicts = {v.run_name: v for v in report.verdicts}
    return uri, marker, honest, twin, subset, ids, report, verdicts


def one_ulp(entries: dict) -> None:
    """The first float of the first weight file, one unit in the last place higher."""
    name = next(n for n in entries if n.endswith("data/weights/weight_0"))
    first = int.from_bytes(entries[name][:4], "little") + 1
    entries[name] = first.to_bytes(4, "little") + entries[name][4:]


def _write(path, content: bytes) -> str:
    """``content`` saved as ``model.pt2`` in a folder of its own; its path."""
    path.mkdir()
    (path / "model.pt2").write_bytes(content)
    return str(path / "model.pt2")


def test_an_honest_run_is_ranked_with_its_accuracy_on_the_whole_test_set(store, synthetic):
    _, _, honest, _, _, _, report, verdicts = store
    verdict = verdicts["honest"]
    assert verdict.ranked and verdict.team == "red" and verdict.run_id == honest.run_id
    # a model another team made in its own experiment, naming this run, was not taken
    assert verdict.model_id == MlflowClient(store[0]).get_run(honest.run_id).data.tags[
        "model_uri"
    ].removeprefix("models:/")
    assert verdict.test_images == len(synthetic.test_labels)  # the whole test set
    assert verdict.verified == pytest.approx(honest.metrics["test_accuracy"], abs=1 / 200)
    assert report.verdicts[0].ranked and report.pending == []


def test_the_same_weights_in_another_team_are_ranked_and_pointed_out(store):
    *_, verdicts = store
    twin = verdicts["twin"]
    assert twin.ranked and twin.verified == verdicts["honest"].verified
    assert twin.note == f"same weights as red's {verdicts['honest'].run_id}"
    nudged = verdicts["nudged"]  # a copy with one weight changed by a rounding error
    assert nudged.ranked and nudged.weights_sha256 != verdicts["honest"].weights_sha256
    assert nudged.note == f"same answer on every test image as red's {verdicts['honest'].run_id}"


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("subset", "it tested on a subset (data.test_size=40), not the whole test set"),
        ("inflated", "logged 0.9900, re-evaluated"),
        ("borrowed", "it logged no model of its own"),
        ("by-hand", "it logged no model of its own"),
        ("pickle-format", "holds data/model.pth, which the leaderboard never loads"),
        ("code-paths", "holds code/evil.py, pickle_module_info.txt, which the leaderboard never"),
        ("pickled-weight", "is stored with pickle, which is never loaded"),
        ("compiled", "holds 'data/aotinductor/m/m.so', which is not a plain weight"),
        ("bad-test-size", "it tested on a subset (data.test_size=abc)"),
        ("unknown-model", "cannot build its model"),
        ("wrong-weights", "its weights do not fit the course's 'mlp' model"),
        ("broken-params", "cannot build its model"),
    ],
)
def test_each_forgery_is_flagged_with_its_reason(store, run, reason):
    *_, verdicts = store
    assert not verdicts[run].ranked
    assert reason in verdicts[run].problem


def test_no_payload_ever_ran(store):
    _, marker, *_ = store
    assert not marker.exists()


def test_verdicts_are_kept_where_students_cannot_write_and_copied_onto_runs(store):
    uri, _, honest, *_, verdicts = store
    client = MlflowClient(uri)
    records = client.get_experiment_by_name(records_experiment("competition"))
    assert len(client.search_runs([records.experiment_id])) == len(verdicts)
    tags = client.get_run(honest.run_id).data.tags
    assert tags[VERDICT_TAG] == "ranked"
    assert tags[VERIFIED_TAG] == f"{verdicts['honest'].verified:.4f}"
    inflated = client.get_run(verdicts["inflated"].run_id).data.tags
    assert inflated[VERDICT_TAG].startswith("flagged: logged 0.9900")


def test_a_second_call_verifies_nothing_again_and_restores_edited_tags(store, synthetic):
    uri, _, _, _, _, _, first, verdicts = store
    client = MlflowClient(uri)
    inflated = verdicts["inflated"].run_id
    client.set_tag(inflated, VERDICT_TAG, "ranked")  # the student edits their own run
    client.set_tag(inflated, VERIFIED_TAG, "0.9900")
    again = verify_competition(uri, data_root=str(synthetic.root / "nowhere"))  # no test set
    assert again.new == [] and again.restored == 1
    assert [v.run_id for v in again.verdicts] == [v.run_id for v in first.verdicts]
    assert client.get_run(inflated).data.tags[VERDICT_TAG].startswith("flagged: logged 0.9900")


def test_a_new_run_is_verified_alone(store, synthetic):
    uri, _, honest, *_ = store
    late = forged_run(
        uri, "yellow", {MODEL_FILE: model_file(uri, honest.run_id)}, copy_from=honest.run_id,
        run_name="late",
    )  # fmt: skip
    report = verify_competition(uri, data_root=str(synthetic.root))
    assert [v.run_id for v in report.new] == [late]
    assert report.new[0].ranked


def test_students_read_the_leaderboard_without_loading_a_model(store):
    uri, *_, report, _ = store
    code = (
        "import sys; from reproml.classroom.leaderboard import read_leaderboard, "
        "format_leaderboard; v = read_leaderboard(sys.argv[1]); print(len(v)); "
        "print(sorted(m for m in ('torch', 'mlflow.pytorch') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, uri], capture_output=True, text=True, check=True
    )
    count, heavy = done.stdout.splitlines()[-2:]
    assert int(count) >= len(report.verdicts) and heavy == "[]"
    table = format_leaderboard(read_leaderboard(uri)).splitlines()
    assert table[2].startswith("  1  red") or table[2].startswith("  1  blue")
    assert any("FLAGGED: it logged no model of its own" in line for line in table)
    assert len(plot_leaderboard(read_leaderboard(uri)).axes[0].patches) >= 2


def test_a_deleted_run_leaves_the_leaderboard_and_comes_back_restored(tmp_path, synthetic):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    kept = train(synthetic.root, uri, "red", "tracking.run_name=kept")
    gone = train(synthetic.root, uri, "red", "tracking.run_name=gone", "optimizer.lr=0.002")
    assert len(verify_competition(uri, data_root=str(synthetic.root)).verdicts) == 2
    client = MlflowClient(uri)
    client.delete_run(gone.run_id)
    assert [v.run_id for v in read_leaderboard(uri)] == [kept.run_id]
    assert [v.run_id for v in verify_competition(uri).verdicts] == [kept.run_id]
    client.restore_run(gone.run_id)
    assert {v.run_id for v in read_leaderboard(uri)} == {kept.run_id, gone.run_id}


def test_an_empty_competition(mlflow_uri):
    assert format_leaderboard(read_leaderboard(mlflow_uri)) == (
        "No verified run in the competition yet."
    )
    assert verify_competition(mlflow_uri).verdicts == []


def forged_model(uri: str, spec: dict, run_name: str) -> str:
    return forged_run(
        uri, "blue", {MODEL_FILE: exported(spec)}, params=model_params(spec),
        metrics={"test_accuracy": 0.1}, run_name=run_name,
    )  # fmt: skip


def test_a_model_too_slow_is_flagged_and_the_rest_goes_on(mlflow_uri, tmp_path):
    from synthetic_data import write_fashion_mnist

    data = write_fashion_mnist(tmp_path / "data", n_test=2000)  # the default CNN: 0.3 s
    forged_model(mlflow_uri, {"name": "cnn", "channels": [256, 512], "hidden": 8}, "slow")
    honest = train(data.root, mlflow_uri, "red")  # verified after: by a fresh worker
    # CPU time, not wall time: the honest model needs about 0.5 s of it however busy the
    # machine is; the slow one would need about 40 s.
    limits = Limits(seconds=5, memory_bytes=4 << 30)
    report = verify_competition(mlflow_uri, data_root=str(data.root), limits=limits)
    slow, verdict = sorted(report.new, key=lambda v: v.run_name != "slow")
    assert slow.problem == "evaluating it took more than the 5 s limit of CPU time"
    assert verdict.ranked and verdict.run_id == honest.run_id


def test_a_model_too_hungry_is_flagged_and_the_rest_goes_on(mlflow_uri, synthetic):
    forged_model(mlflow_uri, {"name": "cnn", "channels": [512], "hidden": 8}, "hungry")
    honest = train(synthetic.root, mlflow_uri, "red", "model=logreg")
    limits = Limits(memory_bytes=64 << 20)  # 200 images through 512 channels: 320 MB
    report = verify_competition(mlflow_uri, data_root=str(synthetic.root), limits=limits)
    hungry, verdict = sorted(report.new, key=lambda v: v.run_name != "hungry")
    assert "over the memory limit" in hungry.problem
    assert verdict.ranked and verdict.run_id == honest.run_id


def test_a_model_file_over_the_size_limit_is_flagged(mlflow_uri, synthetic):
    train(synthetic.root, mlflow_uri, "red")
    limits = Limits(model_bytes=100_000)
    (verdict,) = verify_competition(mlflow_uri, data_root=str(synthetic.root), limits=limits).new
    assert verdict.problem.startswith("its model file is ")
    assert verdict.problem.endswith("MB, over the 0.1 MB limit")


def test_a_missing_test_set_is_the_instructors_problem(mlflow_uri, synthetic, tmp_path):
    from reproml.errors import ReproMLError

    train(synthetic.root, mlflow_uri, "red")
    with pytest.raises(ReproMLError, match="Fashion-MNIST not found"):
        verify_competition(mlflow_uri, data_root=str(tmp_path / "empty"))


def test_a_name_cannot_write_to_the_instructor_s_terminal():
    """An ANSI sequence in a run name erased the rows above it; a right-to-left override
    reordered them. Both are printed as escapes."""
    from reproml.classroom.records import Verdict

    forged = Verdict(
        run_id="r1", team="red\x1b[31m", team_id="1", run_name="a\x1b[1A\x1b[2Kwin\u202e",
        user="mallory", logged=0.9, verified=0.9, problem="",
    )  # fmt: skip
    table = format_leaderboard([forged])
    assert not any(c in table for c in ("\x1b", "\u202e", "\r"))
    assert "a\\x1b[1A\\x1b[2Kwin" in table and "red\\x1b[31m" in table


def test_verdict_tags_forged_on_a_run_never_verified_are_removed(tmp_path, synthetic):
    """A FAILED (or still RUNNING) run is never verified: its "ranked" tag, typed by its team,
    used to stay in the MLflow UI for good."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    team = client.create_experiment("competition/red")
    forged = {VERDICT_TAG: "ranked", VERIFIED_TAG: "0.9990"}
    failed = client.create_run(team, run_name="crashed", tags=forged)
    client.set_terminated(failed.info.run_id, "FAILED")
    running = client.create_run(team, run_name="still running", tags=forged)
    report = verify_competition(uri, data_root=str(synthetic.root))
    assert report.restored == 2 and report.verdicts == []
    for run in (failed, running):
        tags = client.get_run(run.info.run_id).data.tags
        assert VERDICT_TAG not in tags and VERIFIED_TAG not in tags
