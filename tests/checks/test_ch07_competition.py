"""Chapter 07's submission check against what students submit.

The check runs ``submission(experiment)`` on experiments of its own first; the mistakes a
student's function makes there:
- no status filter (a FAILED run wins); FAILED filtered out but not KILLED or RUNNING;
- deleted runs searched too (ViewType.ALL);
- the best on the test set; the most recent run; the worst (ascending order, or no order
  given: ascending is MLflow's default); the chosen run tagged `submitted` (a write);
- the experiment argument ignored (the active experiment searched);
- the best epoch's validation accuracy (the metric's history) instead of the last;
- a run object returned instead of its id;
- the runs that beat the chosen one deleted, or marked FAILED, by the function itself.
Then on the notebook's store (a real local store, runs trained on synthetic data): a run
tested before its submission (test_accuracy logged by hand), a number logged by hand with no
model, a run outside the competition, a run id that is not one; the runs that beat the
submission deleted or marked FAILED in another cell; the chosen run never submitted, or
another run submitted after it (the latest submission is the entry). A notebook executed again
(its earlier runs deleted by ``fresh_experiment``) still passes.
"""

from __future__ import annotations

import mlflow
import pytest
from solution_cells import code_cell, define, mutate

from reproml.experiment import run_experiment
from reproml_course.chapters.notebook import fresh_experiment, setup_course
from reproml_course.classroom.submissions import submit_run

SUBMISSION = code_cell("07_competition.ipynb", "def submission")
SUBMISSION = SUBMISSION[: SUBMISSION.index("submitted = submission(")]
ME = "competition/me"


def submission(*changes: tuple[str, str]):
    code = SUBMISSION
    for old, new in changes:
        code = mutate(code, old, new)
    return define(code, "submission", {"mlflow": mlflow})


def deleting_the_better_runs(experiment):
    """Chooses the latest finished run, and deletes the finished runs that beat it."""
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              filter_string="attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"])  # fmt: skip
    chosen = runs[0]
    for run in runs[1:]:
        if run.data.metrics.get("val_accuracy", 0) > chosen.data.metrics.get("val_accuracy", 0):
            client.delete_run(run.info.run_id)
    return chosen.info.run_id


def failing_the_better_runs(experiment):
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              order_by=["attributes.start_time DESC"])  # fmt: skip
    chosen = runs[0]
    for run in runs[1:]:
        if run.data.metrics.get("val_accuracy", 0) > chosen.data.metrics.get("val_accuracy", 0):
            client.set_terminated(run.info.run_id, "FAILED")
    return chosen.info.run_id


def tagging_the_choice(experiment):
    """The right run, marked `submitted=true`: a write to the store all the same."""
    chosen = submission()(experiment)
    mlflow.MlflowClient().set_tag(chosen, "submitted", "true")
    return chosen


def best_epoch(experiment):
    client = mlflow.MlflowClient()
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list",
                              filter_string="attributes.status = 'FINISHED'")  # fmt: skip

    def peak(run):
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        return max((m.value for m in history), default=0.0)

    return max(runs, key=peak).info.run_id


STATUS = "attributes.status = 'FINISHED'"
ORDER = "metrics.val_accuracy DESC"
CHOICE_MISTAKES = {
    "no status filter": (submission((f'        filter_string="{STATUS}",\n', "")),
                         "a run that is FAILED"),
    "FAILED filtered out, not the others": (
        submission((STATUS, "attributes.status != 'FAILED'")), "only a finished run is an entry"),
    "deleted runs too": (
        submission(("        max_results=1,\n", "        max_results=1,\n"
                    "        run_view_type=mlflow.entities.ViewType.ALL,\n")),
        "a deleted run"),
    "the best test accuracy": (submission((ORDER, "metrics.test_accuracy DESC")),
                               "the best test accuracy"),
    "the most recent run": (submission((ORDER, "attributes.start_time DESC")),
                            "submission chose a finished run with validation accuracy"),
    "the worst": (submission((ORDER, "metrics.val_accuracy ASC")), "the lowest validation"),
    "no order given": (submission((ORDER, "metrics.val_accuracy")), "the lowest validation"),
    "the experiment ignored": (submission(("        experiment_names=[experiment],\n", "")),
                               "a run of another experiment"),
    "the best epoch": (best_epoch, "best epoch"),
    "a run, not its id": (submission(("    return best.info.run_id", "    return best")),
                          "not a run id"),
    "the better runs deleted": (deleting_the_better_runs, "changed the store"),
    "the better runs marked FAILED": (failing_the_better_runs, "changed the store"),
    "the chosen run tagged": (tagging_the_choice, "changed the store"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", CHOICE_MISTAKES)
def test_a_wrong_choice_fails_7_1(evaluate, mistake):
    """The check's own experiments come first: no real runs needed."""
    wrong, message = CHOICE_MISTAKES[mistake]
    passed, said = evaluate("7.1", wrong, ME)
    assert not passed and message in said, said


def test_a_run_id_instead_of_the_function_fails_7_1(evaluate):
    passed, said = evaluate("7.1", "0123456789abcdef0123456789abcdef", ME)
    assert not passed and "checks.exercise_7_1(submission, experiment)" in said


@pytest.fixture
def runs(hard_synthetic, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))
    setup = setup_course(quick=True)

    def entry(*overrides, experiment=ME):
        config = setup.config(
            "model=logreg", "tracking=mlflow", f"tracking.experiment={experiment}",
            "data.test=false", "trainer.progress=false", *overrides,
        )  # fmt: skip
        result = run_experiment(config)
        run = mlflow.MlflowClient().get_run(result.run_id)
        return result.run_id, run.data.metrics

    made = [entry(f"optimizer.lr={lr}", "trainer.epochs=2") for lr in (0.3, 0.001, 0.03)]
    return entry, made


def returning(run_id: str):
    """A right submission on the check's experiments, that submits ``run_id`` for ours."""
    right = submission()

    def chosen(experiment):
        return run_id if experiment == ME else right(experiment)

    return chosen


@pytest.mark.slow
def test_the_best_run_on_validation_passes_and_the_others_fail(evaluate, runs):
    _, made = runs
    by_val = sorted(made, key=lambda r: r[1]["val_accuracy"])
    assert by_val[-1][1]["val_accuracy"] > by_val[0][1]["val_accuracy"]
    passed, said = evaluate("7.1", submission(), ME)  # chosen right, not submitted
    assert not passed and "no run of your experiment is submitted yet" in said
    submit_run(by_val[-1][0])
    assert evaluate("7.1", submission(), ME) == (True, "passed")
    passed, said = evaluate("7.1", returning(by_val[0][0]), ME)
    assert not passed and "better validation accuracy" in said
    submit_run(by_val[0][0])  # then another run, submitted after the right one
    passed, said = evaluate("7.1", submission(), ME)
    assert not passed and "your team's latest submission is" in said


@pytest.mark.slow
def test_a_tested_run_a_hand_logged_number_and_a_stray_run_fail(evaluate, runs):
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(ME).experiment_id
    entry, made = runs
    tested = client.create_run(experiment, run_name="tested").info.run_id
    for key, value in client.get_run(made[0][0]).data.tags.items():
        if key == "model_uri":
            client.set_tag(tested, key, value)
    client.log_metric(tested, "val_accuracy", 1.0)
    client.log_metric(tested, "test_accuracy", 0.9)
    client.set_terminated(tested)
    passed, said = evaluate("7.1", returning(tested), ME)
    assert not passed and "tested before it was submitted (test_accuracy logged)" in said
    client.delete_run(tested)

    fake = client.create_run(experiment, run_name="by-hand").info.run_id
    client.log_metric(fake, "val_accuracy", 1.0)
    client.set_terminated(fake)
    passed, said = evaluate("7.1", returning(fake), ME)
    assert not passed and "logged no model" in said

    elsewhere, _ = entry(experiment="practice")
    passed, said = evaluate("7.1", returning(elsewhere), ME)
    assert not passed and "another experiment" in said

    passed, said = evaluate("7.1", returning("0123456789abcdef0123456789abcdef"), ME)
    assert not passed and "not the id of a run" in said


@pytest.mark.slow
@pytest.mark.parametrize("hide", ["deleted", "FAILED", "KILLED"])
def test_hiding_the_runs_that_beat_the_submission_fails_7_1(evaluate, runs, hide):
    """In a cell of their own, before the check: the runs better on validation than the one
    the student wants to submit are deleted, or marked failed; the right function then
    chooses that one."""
    _, made = runs
    client = mlflow.MlflowClient()
    worst = min(made, key=lambda r: r[1]["val_accuracy"])
    for run_id, metrics in made:
        if metrics["val_accuracy"] > worst[1]["val_accuracy"]:
            if hide == "deleted":
                client.delete_run(run_id)
            else:
                client.set_terminated(run_id, hide)
    entry, _ = runs
    entry("optimizer.lr=0.001", "trainer.epochs=1")  # a second finished run, worse still
    passed, said = evaluate("7.1", submission(), ME)
    assert not passed and ("was deleted" if hide == "deleted" else f"is marked {hide}") in said


@pytest.mark.slow
def test_a_notebook_executed_again_passes_7_1(evaluate, runs):
    """fresh_experiment deleted the earlier execution's runs, some of them better."""
    entry, _ = runs
    fresh_experiment(ME)
    entry("optimizer.lr=0.001", "trainer.epochs=1")
    entry("optimizer.lr=0.002", "trainer.epochs=1")
    submit_run(submission()(ME))
    assert evaluate("7.1", submission(), ME) == (True, "passed")
