"""Chapter 04: MLflow tracking written by the student (4.1). Each check logs into a throwaway
SQLite store of its own and puts the notebook's tracking URI and experiment back afterwards.

4.1 runs the student's ``train_and_track`` on a fresh configuration (model, optimizer, learning
rate, epochs, seed and the sizes of the splits drawn) and reads the run back: the parameters are
the configuration that ran; train_loss, train_accuracy and val_accuracy have one value per epoch
at its step; test_accuracy and test_macro_f1 are the training's; the model reloads and predicts
as trained; the data set logged as the training input is the training split
(``ch04_logged_run``, ``ch04_artifacts``). Then it makes training fail in its second epoch:
the run must end FAILED (never RUNNING, nor FINISHED as if it had succeeded), with the first
epoch's metrics kept (``ch04_failed_run``). 4.2 (ch04_best_run) asks for the best finished run
on validation.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch04_artifacts import _check_record, _logged_model, _scores_of_reloaded
from reproml_course.checks.ch04_failed_run import _check_failure, _runs
from reproml_course.checks.ch04_logged_run import (
    _check_epochs,
    _check_params,
    _check_training_input,
)
from reproml_course.checks.stores import scratch_store

FINAL_METRICS = ("test_accuracy", "test_macro_f1")


# The course's own MLflow tracking: what the exercise asks the student to write.
COURSE_TRACKING = (
    "reproml.tracking.mlflow.MlflowTracker",
    "reproml.tracking.mlflow.EpochLogger",
    "reproml.tracking.record.log_run_setup",
    "reproml.tracking.record.log_run_results",
    "reproml.tracking.record.log_input_once",
    "reproml.tracking.record.epoch_metrics",
    "reproml.experiment.run_experiment",
    "reproml.experiment.build_tracker",
)


def _fresh_config(rng: random.Random):
    from omegaconf import OmegaConf

    from reproml.config import load_config

    config = load_config(
        [
            "experiment=quick", "tracking=none", "trainer.progress=false", "trainer.device=cpu",
            f"model={rng.choice(['logreg', 'mlp'])}", f"optimizer={rng.choice(['sgd', 'adam'])}",
            f"optimizer.lr={rng.choice([0.003, 0.01, 0.03])}",
            f"trainer.epochs={rng.choice([2, 3])}", f"seed={rng.randint(0, 9999)}",
            # Split sizes that tell the splits apart: train+val 400-600, test 250-350.
            f"data.train_size={rng.choice([400, 500, 600])}",
            f"data.test_size={rng.choice([250, 300, 350])}",
        ]
    )  # fmt: skip
    container = OmegaConf.to_container(config, resolve=True)
    container.pop("tracking")
    return OmegaConf.create(container)


@exercise(
    "4.1",
    "the tracking code: a run, its parameters, epoch metrics, model and data",
    points=4,
    course_answers=COURSE_TRACKING,
    budget=180,
)
def exercise_4_1(train_and_track: Any) -> None:
    """`with mlflow.start_run():` around everything;
    mlflow.log_params(reproml.config.flatten_config(config)); mlflow.log_metrics({...},
    step=record.epoch) in on_epoch_end; mlflow.pytorch.log_model(result.model, name='model',
    input_example=..., pip_requirements=[...]); mlflow.log_input(mlflow.data.from_numpy(images,
    targets=labels), context='training'); mlflow.set_tag('data_digest', data.digest);
    mlflow.log_dict(OmegaConf.to_container(config, resolve=True), 'config.yaml')."""
    import mlflow
    import torch

    from reproml.config import flatten_config
    from reproml.data import load_data, normalize

    rng = random.Random()
    config = _fresh_config(rng)
    experiment = f"check-4-1-{rng.randrange(10**6)}"
    with scratch_store(experiment):
        scratch = mlflow.get_tracking_uri()
        moved = CheckFailed(
            "train_and_track changed the tracking URI, so its run went to another store than "
            "the one the notebook uses.",
            "log into whatever store and experiment are active: choosing them is the caller's job.",
        )
        try:
            with _requirements_inference_seen() as inferred:
                result = call(train_and_track, config, what="train_and_track(config)")
        except CheckFailed:
            if mlflow.get_tracking_uri() != scratch:
                raise moved from None
            raise
        if mlflow.get_tracking_uri() != scratch:
            raise moved
        expect(
            all(hasattr(result, a) for a in ("model", "metrics", "history", "config")),
            f"train_and_track should return what train() returns, got {type(result).__name__}.",
            "return the training result.",
        )
        runs = _runs(experiment)
        expect(
            len(runs) == 1,
            f"one call should make one run in the active experiment; found {len(runs)}.",
            "log into the active experiment of the store the notebook uses: do not set "
            "another tracking URI or experiment inside the function.",
        )
        (run,) = runs
        expect(
            mlflow.active_run() is None and run.info.status == "FINISHED",
            f"after train_and_track the run is {run.info.status}"
            + (" and still active" if mlflow.active_run() else "")
            + "; it should be FINISHED.",
            "end the run when the function ends, whatever happens: a `with` block does it.",
        )
        _check_params(run, flatten_config(config), flatten_config(result.config))
        _check_epochs(run.info.run_id, result)
        for name in FINAL_METRICS:
            logged = run.data.metrics.get(name)
            expect(
                logged == result.metrics[name],
                f"the run's {name} is {logged}, the training gave {result.metrics[name]}."
                if logged is not None
                else f"the run has no {name}.",
                "log the final test metrics of the result too, every one of them.",
            )
        data = load_data(config.data)
        _check_training_input(run, data)
        _check_record(run, data, config, result.config)
        model = _logged_model(run.info.run_id)
        inputs = normalize(data.test.images[:256])
        with torch.no_grad():
            reloaded = _scores_of_reloaded(model, inputs)
            trained = result.model.cpu().eval()(inputs)
        # The exported program may round differently in the last bits: scores, not argmaxes.
        expect(
            torch.allclose(reloaded, trained, rtol=1e-4, atol=1e-5),
            "the logged model, reloaded, does not compute what the trained model computes "
            f"(largest difference of scores: {(reloaded - trained).abs().max():.3g}).",
            "log the model that train() returned, after training.",
        )
        expect(
            not inferred,
            "MLflow had to find out the model's requirements itself, which loads the model "
            "in another process (seconds per run).",
            "say which packages the model needs when you log it: the torch that trained it.",
        )
        _check_failure(train_and_track, config, experiment)


@contextlib.contextmanager
def _requirements_inference_seen() -> Iterator[list[bool]]:
    """Notes whether MLflow infers a logged model's requirements meanwhile (it does when it
    is given none); where MLflow has no such function, nothing is noted."""
    import mlflow.models

    seen: list[bool] = []
    original = getattr(mlflow.models, "infer_pip_requirements", None)
    if original is None:
        yield seen
        return

    def infer(*args: Any, **kwargs: Any) -> Any:
        seen.append(True)
        return original(*args, **kwargs)

    mlflow.models.infer_pip_requirements = infer
    try:
        yield seen
    finally:
        mlflow.models.infer_pip_requirements = original
