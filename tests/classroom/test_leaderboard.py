"""The verified leaderboard on a local store: submitted honest runs ranked on the whole test
set, every forgery flagged or refused with its reason, nothing of a student's model executed,
each submitted run tested once, and no run tested that nobody submitted.
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

from reproml.base.errors import ReproMLError
from reproml_course.classroom.evaluator import Limits
from reproml_course.classroom.leaderboard import (
    format_leaderboard,
    plot_leaderboard,
    read_leaderboard,
    verify_competition,
)
from reproml_course.classroom.model_files import MODEL_FILE
from reproml_course.classroom.records import VERDICT_TAG, VERIFIED_TAG, Records
from reproml_course.classroom.submissions import SUBMITTED_TAG, submit_run

MANY = 100  # submissions a day: the store below submits more than the default allows

MLMODEL = b"flavors: {pytorch: {model_data: data}}\n"
NEVER_IMPORTED = "not_a_module_xyz"  # a forged run's target: deciding imports nothing it names


@pytest.fixture(scope="module")
def store(tmp_path_factory, synthetic):
    """Two honest teams, and every kind of forgery, in one local store; verified once."""
    folder = tmp_path_factory.mktemp("competition")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    marker = folder / "PAYLOAD_RAN"
    honest = train(synthetic.root, uri, "red", "tracking.run_name=honest")
    twin = train(synthetic.root, uri, "blue", "tracking.run_name=twin")  # same config and seed
    kept = train(synthetic.root, uri, "red", "tracking.run_name=kept", "seed=1", submit=False)
    pt2 = model_file(uri, honest.run_id)
    model_uri = MlflowClient(uri).get_run(honest.run_id).data.tags["model_uri"]
    payload = pickled_weight(pt2, marker)  # its first weight unpickles into `touch marker`
    forged = {
        "borrowed": dict(files=None, tags={"model_uri": model_uri}),
        "by-hand": dict(files=None),
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
        "unknown-model": dict(
            files={MODEL_FILE: pt2}, params={"model._target_": "reproml.models.ResNet"}
        ),
        "unknown-name": dict(
            files={MODEL_FILE: pt2}, copy_from=None, params={"model.name": "evil"}
        ),
        "wrong-weights": dict(
            files={MODEL_FILE: pt2},  # a CNN's weights, for a run that says it trained an MLP
            copy_from=None,
            params={
                "model._target_": "reproml.models.MLP",
                "model.hidden_sizes": "[256, 128]",
            },
        ),
        "broken-params": dict(files={MODEL_FILE: pt2}, params={"model.channels": "[1, 2"}),
        # Hydra's way of naming what to build, aimed at a shell: only the course's models are
        # built, compared as strings before anything is imported
        "named-target": dict(
            files={MODEL_FILE: pt2},
            params={"model._target_": "os.system", "model.command": f"touch {marker}"},
        ),
        "eval-target": dict(
            files={MODEL_FILE: pt2},
            params={
                "model._target_": "builtins.eval",
                "model._args_": f'[\'__import__("os").system("touch {marker}")\']',
            },
        ),
        "unknown-module": dict(
            files={MODEL_FILE: pt2}, params={"model._target_": f"{NEVER_IMPORTED}.Thing"}
        ),
        "nested-target": dict(
            files={MODEL_FILE: pt2},
            params={
                "model.channels": f"[{{'_target_': 'os.system', 'command': 'touch {marker}'}}]"
            },
        ),
        "hidden-mapping": dict(
            files={MODEL_FILE: pt2},
            params={
                "model.hidden_sizes": f"{{'_target_': 'os.system', 'command': 'touch {marker}'}}"
            },
        ),
        "positional-args": dict(
            files={MODEL_FILE: pt2}, params={"model._args_": f"[['touch {marker}']]"}
        ),
        # a run logged before the course named its parts by _target_: model.name only
        "old-run": dict(files={MODEL_FILE: pt2}, copy_from=None, params=old_form(uri, honest)),
        "nudged": dict(files={"MLmodel": MLMODEL, MODEL_FILE: rewrite_archive(pt2, one_ulp)}),
    }
    refused = {  # submitted by hand; none of them may be tested
        "tested": dict(files={MODEL_FILE: pt2}, metrics={"test_accuracy": 0.99}),
        "failed": dict(files={MODEL_FILE: pt2}, status="FAILED"),
        "running": dict(files={MODEL_FILE: pt2}, status="RUNNING"),
    }
    ids = {
        name: forged_run(uri, "yellow", run_name=name, **{"copy_from": honest.run_id, **kwargs})
        for name, kwargs in {**forged, **refused}.items()
    }
    sabotage = exported({"_target_": "reproml.models.CNN"})  # fresh weights, for red's honest run
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
    report = verify_competition(uri, data_root=str(synthetic.root), per_day=MANY)
    verdicts = {v.run_name: v for v in report.new}
    return uri, marker, honest, twin, kept, ids, report, verdicts


def old_form(uri: str, run) -> dict[str, str]:
    """The params of ``run`` as the course logged them before ``_target_``: ``model.name``."""
    params = dict(MlflowClient(uri).get_run(run.run_id).data.params)
    assert params.pop("model._target_") == "reproml.models.CNN" and params["model.name"] == "cnn"
    return params


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
    assert 0.1 < verdict.verified <= 1 and "test_accuracy" not in honest.metrics
    assert report.verdicts[0].ranked and report.pending == []


def test_a_run_nobody_submitted_is_tested_nowhere(store):
    """Its test accuracy exists nowhere in the store: not on the run, not in the records."""
    from mlflow.entities import ViewType

    uri, _, _, _, kept, *_ = store
    client = MlflowClient(uri)
    every = client.search_experiments(view_type=ViewType.ALL)
    runs = client.search_runs([e.experiment_id for e in every], max_results=50_000)
    about_kept = [
        r for r in runs
        if r.info.run_id == kept.run_id or r.data.tags.get("reproml.run_id") == kept.run_id
    ]  # fmt: skip
    assert [r.info.run_id for r in about_kept] == [kept.run_id]
    assert not [k for k in about_kept[0].data.metrics if "test" in k]
    assert VERDICT_TAG not in about_kept[0].data.tags


def test_one_row_per_team_with_its_submissions_counted(store):
    *_, report, verdicts = store
    teams = [row.team for row in report.verdicts]
    assert sorted(teams) == ["blue", "red", "yellow"] and len(set(teams)) == len(teams)
    yellow = next(row for row in report.verdicts if row.team == "yellow")
    assert yellow.submissions == len(verdicts) - 2  # every yellow run tested; refused aside
    assert [row.submissions for row in report.verdicts if row.team != "yellow"] == [1, 1]


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
        ("tested", "it was tested before it was submitted (test_accuracy logged)"),
        ("failed", "it is FAILED: only a finished run has a final model to test."),
        ("running", "it is RUNNING"),
    ],
)
def test_a_submission_that_cannot_be_one_is_refused_and_never_tested(store, run, reason):
    uri, *_, ids, report, verdicts = store
    (refused,) = [s for s in report.submissions if s.run_id == ids[run]]
    assert reason in refused.refused and run not in verdicts
    assert VERDICT_TAG not in MlflowClient(uri).get_run(ids[run]).data.tags


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("borrowed", "it logged no model of its own"),
        ("by-hand", "it logged no model of its own"),
        ("pickle-format", "holds data/model.pth, which the leaderboard never loads"),
        ("code-paths", "holds code/evil.py, pickle_module_info.txt, which the leaderboard never"),
        ("pickled-weight", "is stored with pickle, which is never loaded"),
        ("compiled", "holds 'data/aotinductor/m/m.so', which is not a plain weight"),
        ("unknown-model", "cannot build its model: model 'reproml.models.ResNet' is not one"),
        ("unknown-name", "cannot build its model: model 'evil' is not one of the course's"),
        ("wrong-weights", "its weights do not fit the course's 'reproml.models.MLP' model"),
        ("broken-params", "cannot build its model: model cannot be built: model.channels must be"),
        ("named-target", "cannot build its model: model 'os.system' is not one of the course's"),
        ("eval-target", "cannot build its model: model 'builtins.eval' is not one"),
        ("unknown-module", f"cannot build its model: model '{NEVER_IMPORTED}.Thing' is not one"),
        ("nested-target", "cannot build its model: model.channels holds a mapping"),
        ("hidden-mapping", "cannot build its model: model.hidden_sizes holds a mapping"),
        ("positional-args", "cannot build its model: model sets _args_"),
    ],
)
def test_each_forgery_is_flagged_with_its_reason(store, run, reason):
    *_, verdicts = store
    assert not verdicts[run].ranked
    assert reason in verdicts[run].problem


def test_no_payload_ever_ran(store):
    _, marker, *_ = store
    assert not marker.exists()
    assert NEVER_IMPORTED not in sys.modules  # the parent never imported what a run named


def test_a_run_logged_before_targets_is_ranked_by_its_model_name(store):
    *_, verdicts = store
    old = verdicts["old-run"]
    assert old.ranked and old.problem == ""
    assert old.verified == verdicts["honest"].verified  # the same CNN, rebuilt from model.name


def test_verdicts_are_kept_where_students_cannot_write_and_copied_onto_runs(store):
    uri, _, honest, *_, verdicts = store
    client = MlflowClient(uri)
    records = Records(client, "competition")
    assert len(records.verdicts()) == len(verdicts)
    assert len(records.submissions()) == len(verdicts) + 3  # the refused ones too
    tags = client.get_run(honest.run_id).data.tags
    assert tags[VERDICT_TAG] == "ranked"
    assert tags[VERIFIED_TAG] == f"{verdicts['honest'].verified:.4f}"
    borrowed = client.get_run(verdicts["borrowed"].run_id).data.tags
    assert borrowed[VERDICT_TAG].startswith("flagged: it logged no model")


def test_a_second_call_verifies_nothing_again_and_restores_edited_tags(store, synthetic):
    uri, _, _, _, _, _, first, verdicts = store
    client = MlflowClient(uri)
    borrowed = verdicts["borrowed"].run_id
    client.set_tag(borrowed, VERDICT_TAG, "ranked")  # the student edits their own run
    client.set_tag(borrowed, VERIFIED_TAG, "0.9900")
    again = verify_competition(uri, data_root=str(synthetic.root / "nowhere"))  # no test set
    assert again.new == [] and again.submissions == [] and again.restored == 1
    assert [v.run_id for v in again.verdicts] == [v.run_id for v in first.verdicts]
    assert client.get_run(borrowed).data.tags[VERDICT_TAG].startswith("flagged: it logged no")


def test_a_new_run_is_verified_alone(store, synthetic):
    uri, _, honest, *_ = store
    late = forged_run(
        uri, "yellow", {MODEL_FILE: model_file(uri, honest.run_id)}, copy_from=honest.run_id,
        run_name="late",
    )  # fmt: skip
    report = verify_competition(uri, data_root=str(synthetic.root), per_day=MANY)
    assert [v.run_id for v in report.new] == [late]
    assert report.new[0].ranked
    (row,) = [row for row in report.verdicts if row.team == "yellow"]
    assert row.run_id == late  # the latest submission is the team's entry


def test_students_read_the_leaderboard_without_loading_a_model(store):
    uri, *_ = store
    code = (
        "import sys; from reproml_course.classroom.leaderboard import read_leaderboard, "
        "format_leaderboard; v = read_leaderboard(sys.argv[1]); print(len(v)); "
        "print(sorted(m for m in ('torch', 'mlflow.pytorch') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, uri], capture_output=True, text=True, check=True
    )
    count, heavy = done.stdout.splitlines()[-2:]
    assert int(count) == 3 and heavy == "[]"  # a row per team
    table = format_leaderboard(read_leaderboard(uri)).splitlines()
    assert table[0].split() == ["#", "team", "run", "subs", "test", "acc", "note"]
    assert table[2].startswith("  1  red") or table[2].startswith("  1  blue")
    assert len(plot_leaderboard(read_leaderboard(uri)).axes[0].patches) >= 2


def test_a_deleted_run_leaves_the_leaderboard_and_comes_back_restored(tmp_path, synthetic):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    kept = train(synthetic.root, uri, "red", "tracking.run_name=kept")
    gone = train(synthetic.root, uri, "red", "tracking.run_name=gone", "optimizer.lr=0.002")
    assert [v.run_id for v in verify_competition(uri, data_root=str(synthetic.root)).new] == [
        kept.run_id, gone.run_id,
    ]  # fmt: skip
    assert [v.run_id for v in read_leaderboard(uri)] == [gone.run_id]  # the latest submission
    client = MlflowClient(uri)
    client.delete_run(gone.run_id)
    assert [v.run_id for v in read_leaderboard(uri)] == [kept.run_id]  # the one before
    assert [v.run_id for v in verify_competition(uri).verdicts] == [kept.run_id]
    client.restore_run(gone.run_id)
    assert [v.run_id for v in read_leaderboard(uri)] == [gone.run_id]


def test_an_empty_competition(mlflow_uri):
    assert format_leaderboard(read_leaderboard(mlflow_uri)) == "No submission tested yet."
    assert verify_competition(mlflow_uri).verdicts == []


def forged_model(uri: str, spec: dict, run_name: str) -> str:
    return forged_run(
        uri, "blue", {MODEL_FILE: exported(spec)}, params=model_params(spec), run_name=run_name,
    )  # fmt: skip


def test_a_model_too_slow_is_flagged_and_the_rest_goes_on(mlflow_uri, tmp_path):
    from synthetic_data import write_fashion_mnist

    data = write_fashion_mnist(tmp_path / "data", n_test=2000)  # the default CNN: 0.3 s
    slow = {"_target_": "reproml.models.CNN", "channels": [256, 512], "hidden": 8}
    forged_model(mlflow_uri, slow, "slow")
    honest = train(data.root, mlflow_uri, "red")  # verified after: by a fresh worker
    # CPU time, not wall time: the honest model needs about 0.5 s of it however busy the
    # machine is; the slow one would need about 40 s.
    limits = Limits(seconds=2, memory_bytes=4 << 30)
    report = verify_competition(mlflow_uri, data_root=str(data.root), limits=limits)
    slow, verdict = sorted(report.new, key=lambda v: v.run_name != "slow")
    assert slow.problem == "evaluating it took more than the 2 s limit of CPU time"
    assert verdict.ranked and verdict.run_id == honest.run_id


def test_a_model_too_hungry_is_flagged_and_the_rest_goes_on(mlflow_uri, synthetic):
    hungry = {"_target_": "reproml.models.CNN", "channels": [512], "hidden": 8}
    forged_model(mlflow_uri, hungry, "hungry")
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
    from reproml.base.errors import ReproMLError

    train(synthetic.root, mlflow_uri, "red")
    with pytest.raises(ReproMLError, match="Fashion-MNIST not found"):
        verify_competition(mlflow_uri, data_root=str(tmp_path / "empty"))


def test_a_name_cannot_write_to_the_instructor_s_terminal():
    """An ANSI sequence in a run name erased the rows above it; a right-to-left override
    reordered them. Both are printed as escapes."""
    from reproml_course.classroom.records import Verdict

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


def test_over_the_day_s_limit_a_submission_is_refused(tmp_path, synthetic):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = train(synthetic.root, uri, "red", "tracking.run_name=first")
    second = train(synthetic.root, uri, "red", "tracking.run_name=second", "seed=1")
    report = verify_competition(uri, data_root=str(synthetic.root), per_day=1)
    assert [v.run_id for v in report.new] == [first.run_id]
    refused = [s for s in report.submissions if s.refused]
    assert [s.run_id for s in refused] == [second.run_id]
    assert refused[0].refused == "over the limit of 1 submissions a day (UTC) for a team."
    (row,) = read_leaderboard(uri)
    assert row.run_id == first.run_id and row.submissions == 1
    # Submitting it again the same day is refused again: the limit holds across passes.
    submit_run(second.run_id, uri)
    again = verify_competition(uri, data_root=str(synthetic.root), per_day=1)
    assert again.new == [] and [s.refused != "" for s in again.submissions] == [True]


def test_the_latest_submission_counts_even_when_worse(tmp_path, synthetic):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    good = train(synthetic.root, uri, "red", "tracking.run_name=good")
    verify_competition(uri, data_root=str(synthetic.root))
    worse = train(synthetic.root, uri, "red", "tracking.run_name=worse", "trainer.epochs=1",
                  "optimizer.lr=1e-6")  # fmt: skip
    verify_competition(uri, data_root=str(synthetic.root))
    (row,) = read_leaderboard(uri)
    assert row.run_id == worse.run_id and row.submissions == 2
    submit_run(good.run_id, uri)  # submitting an earlier run again makes it the entry
    report = verify_competition(uri, data_root=str(synthetic.root))
    assert report.new == []  # tested once, whatever the number of submissions
    (row,) = report.verdicts
    assert row.run_id == good.run_id and row.submissions == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(metrics={"test_accuracy": 0.9}), "it was tested before it was submitted"),
        (dict(status="KILLED"), "it is KILLED: only a finished run"),
        (dict(team=None), "not a competition experiment"),
    ],
)
def test_submit_run_refuses_what_the_leaderboard_would(tmp_path, change, message):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    if change.pop("team", "red") is None:
        run = client.create_run(client.create_experiment("practice"))
        client.set_terminated(run.info.run_id)
        run_id = run.info.run_id
    else:
        run_id = forged_run(uri, "red", None, submitted=None, **change)
    with pytest.raises(ReproMLError, match=message):
        submit_run(run_id, uri)
    assert SUBMITTED_TAG not in client.get_run(run_id).data.tags


def test_a_run_whose_verification_keeps_raising_is_flagged_after_three_tries(
    tmp_path, synthetic, monkeypatch
):
    """Something no limit catches (here, a store that fails on this one model): tried at three
    passes, then flagged, so that no later pass starts on it again."""
    import reproml_course.classroom.leaderboard_verify as leaderboard_verify

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = train(synthetic.root, uri, "red")

    def broken(*args, **kwargs):
        raise OSError("the artifact store failed")

    monkeypatch.setattr(leaderboard_verify, "_check", broken)
    for attempt in (1, 2):
        report = verify_competition(uri, data_root=str(synthetic.root))
        assert report.new == [] and report.pending == [
            f"{run.run_id}: not verified yet, try {attempt} (the artifact store failed)"
        ]
    (verdict,) = verify_competition(uri, data_root=str(synthetic.root)).new
    assert verdict.problem == "it could not be verified in 3 tries (the artifact store failed)"
    monkeypatch.undo()
    assert verify_competition(uri, data_root=str(synthetic.root)).new == []  # never again


def test_practising_alone_a_notebook_executed_again_starts_its_records_afresh(
    tmp_path, synthetic, monkeypatch
):
    """Chapter 07 on a local store: fresh_experiment trashes the team's runs, and its
    submissions and verdicts with them (a sixth execution in a day is not refused)."""
    from reproml_course.chapters.notebook import fresh_experiment

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    blue = train(synthetic.root, uri, "blue", "tracking.run_name=blue")
    for seed in range(2):
        train(synthetic.root, uri, "red", f"seed={seed}")
        verify_competition(uri, data_root=str(synthetic.root), per_day=1)
        assert sorted(row.team for row in read_leaderboard(uri)) == ["blue", "red"]
        fresh_experiment("competition/red")
        assert [row.run_id for row in read_leaderboard(uri)] == [blue.run_id]
    records = Records(MlflowClient(uri), "competition")
    assert {s.team for s in records.submissions()} == {"blue"}  # red's: in the trash
    assert not [s for s in records.submissions() if s.refused]  # never over the limit
