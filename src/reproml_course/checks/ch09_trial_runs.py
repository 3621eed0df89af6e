"""What exercise 9.4's check reads back from the store after the search: a parent run,
ended FINISHED, with one child run per trial, each trained as its trial drew it, pruned where
the median rule prunes it, and logging the same values the study holds."""

from __future__ import annotations

import math
from typing import Any

from reproml_course.checks.base import CheckFailed, expect
from reproml_course.checks.ch09_space import KEYS, PRUNE_FROM_EPOCH

ENDS_FINISHED = (
    "open the parent run in a `with mlflow.start_run(...)` block around the search: it ends, "
    "FINISHED, when the search does."
)


def _expect_parent(parent_id: Any) -> None:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    expect(
        isinstance(parent_id, str) and bool(parent_id),
        f"run_search returned {parent_id!r}, not the parent run's id.",
        "the run's id is in its info.",
    )
    try:
        parent = MlflowClient().get_run(parent_id)
    except MlflowException:
        raise CheckFailed(
            f"run_search returned {parent_id!r}, which is no run's id in the store.",
            "return the id of the parent run (its info has it), not another id.",
        ) from None
    active = mlflow.active_run()
    if active is not None:
        which = "the parent run" if active.info.run_id == parent_id else "a run"
        raise CheckFailed(
            f"{which} is still open (RUNNING) after run_search returned: it was never ended.",
            ENDS_FINISHED,
        )
    status = parent.info.status
    expect(status == "FINISHED", f"the parent run ended {status}, not FINISHED.", ENDS_FINISHED)


def _expect_trial_runs(study: Any, children: list, n_trials: int) -> None:
    expect(
        len(children) == n_trials,
        f"the run run_search returned has {len(children)} child runs; the study ran "
        f"{n_trials} trials.",
        "open the parent run around the whole search and return its id; the training inside "
        "each trial then makes a child run of it.",
    )
    runs = {run.info.run_name: run for run in children}
    for trial in study.trials:
        run = runs.get(f"trial-{trial.number}")
        expect(
            run is not None,
            f"no child run is named trial-{trial.number} (they are named "
            f"{', '.join(sorted(map(str, runs)))}).",
            "name each trial's run after the trial's number, to find it in MLflow.",
        )
        _expect_trained_as_drawn(trial, run)
        _expect_same_trial(trial, run)
    third = study.trials[2]
    expect(
        third.state.name == "PRUNED" and set(third.intermediate_values) == {1, PRUNE_FROM_EPOCH},
        f"trial 2's validation accuracy stayed far below trials 0 and 1's at every epoch (the "
        f"check plants it), yet it ended {third.state.name}, reporting "
        f"{third.intermediate_values or 'nothing'}.",
        "the training needs the pruning callback, and enough epochs for the pruner to act.",
    )


def _expect_trained_as_drawn(trial: Any, run: Any) -> None:
    expect(
        set(trial.params) == set(KEYS),
        f"trial {trial.number} drew {sorted(trial.params) or 'nothing'}, not the search space "
        f"of trial_overrides ({', '.join(KEYS)}).",
        "the objective draws the trial's values through trial_overrides(trial).",
    )
    params = run.data.params
    for name, key in KEYS.items():
        drawn, logged = trial.params[name], params.get(key)
        same = str(drawn) == logged or (
            isinstance(drawn, float) and logged is not None and _close(drawn, logged)
        )
        expect(
            same,
            f"trial {trial.number} drew {name}={drawn!r}, but its run trained with {key}={logged}.",
            "compose the configuration from every override the trial gives, after the "
            "search's own (a later override wins).",
        )


def _close(value: float, text: str) -> bool:
    try:
        return math.isclose(value, float(text), rel_tol=1e-9)
    except ValueError:
        return False


def _expect_same_trial(trial: Any, run: Any) -> None:
    from mlflow import MlflowClient

    status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(trial.state.name)
    expect(
        status is not None,
        f"trial {trial.number} ended {trial.state.name}.",
        "a pruned trial raises optuna.TrialPruned out of the objective; nothing else fails.",
    )
    expect(
        run.info.status == status,
        f"trial {trial.number} is {trial.state.name} but its MLflow run is {run.info.status}.",
        "let the pruning exception leave the objective: the run is then marked KILLED.",
    )
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    logged = {point.step: round(point.value, 6) for point in history}
    reported = {step: round(value, 6) for step, value in trial.intermediate_values.items()}
    expect(
        reported == logged,
        f"trial {trial.number} reported {reported} to Optuna, its run logged the validation "
        f"accuracies {logged}.",
        "report what the training loop measures on the validation images, each epoch.",
    )
    if trial.state.name == "COMPLETE":
        _expect_value(trial, run, logged)


def _expect_value(trial: Any, run: Any, logged: dict[int, float]) -> None:
    """A finished trial's value is its run's final validation accuracy; what else it is, if
    not, says what went wrong."""
    from mlflow import MlflowClient

    final, value = logged[max(logged)], trial.value
    if value is not None and math.isclose(value, final, abs_tol=1e-6):
        return
    train = MlflowClient().get_metric_history(run.info.run_id, "train_accuracy")
    others = [
        (max(logged.values()), "the best epoch's validation accuracy, not the last epoch's (the "
         "model the run keeps)", "return the validation accuracy of the model the training "
         "ends with: the result's metrics hold it."),
        (run.data.metrics.get("test_accuracy", math.nan), "its test accuracy",
         "the objective returns the validation accuracy: the test set is not for choosing."),
        (max(train, key=lambda p: p.step).value if train else math.nan,
         "its training accuracy", "the objective returns the validation accuracy: the training "
         "accuracy says how well the model learnt its own images."),
    ]  # fmt: skip
    said = f"trial {trial.number}'s value is {value}, its run's final validation accuracy {final}"
    for other, what, hint in others:
        if value is not None and math.isclose(value, other, abs_tol=1e-6):
            raise CheckFailed(f"{said}: the value is {what}.", hint)
    raise CheckFailed(
        f"{said}.",
        "the objective returns the validation accuracy of the run it trained, as the result's "
        "metrics hold it.",
    )
