"""What exercise 4.1's check reads back from the student's run: the parameters are the
configuration that ran, each epoch's metrics are at their step, the record (the resolved
configuration as an artifact) is the one that ran, and the data set logged as the training
input is the training split, profiled as such."""

from __future__ import annotations

import math
from typing import Any

from reproml_course.checks.base import expect

EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy")  # one per epoch, step=epoch


def _check_params(run, expected: dict[str, Any], resolved: dict[str, Any]) -> None:
    """The configuration given; where the training resolved a value (the data folder it
    read), that one is right too."""
    expected = {key: str(value) for key, value in expected.items()}
    resolved = {key: str(value) for key, value in resolved.items()}
    logged = run.data.params
    missing = sorted(set(expected) - set(logged))
    wrong = sorted(
        k for k in expected if k in logged and logged[k] not in (expected[k], resolved.get(k))
    )
    expect(
        not missing and not wrong,
        "the run's parameters are not the configuration that ran: "
        + (f"missing {', '.join(missing[:4])}" if missing else "")
        + ("; " if missing and wrong else "")
        + (
            f"{wrong[0]}={logged[wrong[0]]!r} but the configuration says {expected[wrong[0]]!r}"
            if wrong
            else ""
        )
        + ".",
        "log every value of the configuration given, one parameter per dotted key "
        "(model.name, optimizer.lr, ...), taken from the configuration, never typed by hand.",
    )


def _check_epochs(run_id: str, result) -> None:
    from mlflow import MlflowClient

    client = MlflowClient()
    epochs = len(result.history)
    for name in EPOCH_METRICS:
        history = client.get_metric_history(run_id, name)
        steps = sorted(m.step for m in history)
        expect(
            steps == list(range(1, epochs + 1)),
            f"the run's {name} has values at steps {steps}; a {epochs}-epoch run should have "
            f"one per epoch, at steps {list(range(1, epochs + 1))}.",
            "log each epoch's metrics when the epoch ends, with the epoch number as the step.",
        )
        values = [m.value for m in sorted(history, key=lambda m: m.step)]
        wanted = [getattr(r, name) for r in result.history]
        expect(
            all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(values, wanted, strict=True)),
            f"the run's {name} per epoch is {[round(v, 4) for v in values]}, the training "
            f"reported {[round(v, 4) for v in wanted]}.",
            "log the values of the epoch record the training loop passes to the callback.",
        )


def _check_training_input(run, data) -> None:
    """The data set logged with the context 'training' is the training split, labels
    included: as many rows as it has."""
    inputs = [
        (
            _profile(d.dataset.profile),
            {t.key: t.value for t in d.tags}.get("mlflow.data.context") or "",
        )
        for d in (run.inputs.dataset_inputs if run.inputs else [])
    ]
    expect(
        bool(inputs),
        "the run has no data set among its inputs.",
        "MLflow can record which data a run trained on: log the training split as an input.",
    )
    training = [profile for profile, context in inputs if context.lower() == "training"]
    expect(
        bool(training),
        "the run's data sets are logged with the contexts "
        f"{sorted({context or '(none)' for _, context in inputs})}: none as the training input.",
        "say which split a logged data set is: the one the model trained on has the context "
        "'training'.",
    )
    sizes = {
        len(data.train): "the training split",
        len(data.val): "the validation split",
        len(data.test): "the test split",
        len(data.train) + len(data.val): "the training and validation images together",
    }
    for profile in training:
        rows = _rows(profile)
        expect(
            rows is None or rows == len(data.train),
            f"the data set logged as the run's training input has {rows} rows: "
            + sizes.get(rows, "not the training split")
            + f", not the {len(data.train)} images of the training split the model trained on.",
            "log the split the model trained on (the training split of the data you train "
            "with) as the training input.",
        )
        expect(
            "features_shape" not in profile or "targets_shape" in profile,
            "the data set logged as the run's training input holds the images but not their "
            "labels.",
            "a data set to train on is the images and their labels: give both.",
        )


def _profile(profile: Any) -> dict:
    import json

    try:
        found = json.loads(profile) if isinstance(profile, str) else profile
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _rows(found: dict) -> int | None:
    """How many examples a logged data set holds, from its profile (None: not said)."""
    if isinstance(found.get("num_rows"), int):
        return found["num_rows"]
    for key in ("features_shape", "targets_shape"):
        shape = found.get(key)
        if isinstance(shape, dict) and shape:
            shape = next(iter(shape.values()))
        if isinstance(shape, list) and shape and isinstance(shape[0], int):
            return shape[0]
    return None
