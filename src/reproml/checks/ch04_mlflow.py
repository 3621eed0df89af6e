"""Chapter 04: MLflow tracking written by the student. Each check logs into a throwaway SQLite
store of its own and puts the notebook's tracking URI and experiment back afterwards.

4.1 runs the student's ``train_and_track`` on a fresh configuration and reads the run back:
the parameters are the configuration that ran, every epoch metric has one value per epoch at
its step, the model reloads and predicts as trained, the data set is a run input; then it makes
training fail mid-run, and the run must end FAILED, never RUNNING. 4.2 asks for the best
finished run on validation among runs where the test set would choose another.
"""

from __future__ import annotations

import math
import random
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.checks.stores import scratch_store

EPOCH_METRICS = ("train_loss", "val_accuracy")


def _fresh_config(rng: random.Random):
    from omegaconf import OmegaConf

    from reproml.config import load_config

    config = load_config(
        [
            "experiment=quick", "tracking=none", "trainer.progress=false", "trainer.device=cpu",
            f"model={rng.choice(['logreg', 'mlp'])}", f"optimizer={rng.choice(['sgd', 'adam'])}",
            f"optimizer.lr={rng.choice([0.003, 0.01, 0.03])}",
            f"trainer.epochs={rng.choice([2, 3])}", f"seed={rng.randint(0, 9999)}",
        ]
    )  # fmt: skip
    container = OmegaConf.to_container(config, resolve=True)
    container.pop("tracking")
    return OmegaConf.create(container)


class _FailAtEpoch:
    """A training callback that fails, as a crash in the middle of training would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_batch_end(self, epoch: int, batch: int, loss: Any) -> None:
        pass

    def on_epoch_end(self, record: Any) -> None:
        if record.epoch == self.epoch:
            raise RuntimeError(f"training failed at epoch {self.epoch} (a check's crash)")


def _runs(experiment: str) -> list:
    from mlflow import MlflowClient

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


@exercise(
    "4.1",
    "the tracking code: a run, its parameters, epoch metrics, model and data",
    points=4,
)
def exercise_4_1(train_and_track: Any) -> None:
    """`with mlflow.start_run():` around everything;
    mlflow.log_params(reproml.config.flatten_config(config)); mlflow.log_metrics({...},
    step=record.epoch) in on_epoch_end; mlflow.pytorch.log_model(result.model, name='model',
    input_example=..., pip_requirements=[...]); mlflow.log_input(mlflow.data.from_numpy(images,
    targets=labels), context='training')."""
    import mlflow
    import torch

    from reproml.config import flatten_config
    from reproml.data import normalize
    from reproml.training import load_data

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
            result = call(train_and_track, config, what="train_and_track(config)")
        except CheckFailed:
            if mlflow.get_tracking_uri() != scratch:
                raise moved from None
            raise
        if mlflow.get_tracking_uri() != scratch:
            raise moved
        expect(
            hasattr(result, "model") and hasattr(result, "metrics"),
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
        _check_params(run, flatten_config(config))
        _check_epochs(run.info.run_id, result)
        test = run.data.metrics.get("test_accuracy")
        expect(
            test == result.metrics["test_accuracy"],
            f"the run's test_accuracy is {test}, the training gave "
            f"{result.metrics['test_accuracy']}.",
            "log the final metrics of the result too.",
        )
        expect(
            bool(run.inputs and run.inputs.dataset_inputs),
            "the run has no data set among its inputs.",
            "MLflow can record which data a run trained on: log the training split as an input.",
        )
        model = _logged_model(run.info.run_id)
        inputs = normalize(load_data(config.data).test.images[:256])
        with torch.no_grad():
            reloaded, trained = model(inputs), result.model.cpu().eval()(inputs)
        # The exported program may round differently in the last bits: scores, not argmaxes.
        expect(
            torch.allclose(reloaded, trained, rtol=1e-4, atol=1e-5),
            "the logged model, reloaded, does not compute what the trained model computes "
            f"(largest difference of scores: {(reloaded - trained).abs().max():.3g}).",
            "log the model that train() returned, after training.",
        )
        _check_failure(train_and_track, config, experiment)


def _check_params(run, expected: dict[str, Any]) -> None:
    expected = {key: str(value) for key, value in expected.items()}
    logged = run.data.params
    missing = sorted(set(expected) - set(logged))
    wrong = sorted(k for k in expected if k in logged and logged[k] != expected[k])
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


def _logged_model(run_id: str):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_run(run_id).info.experiment_id
    models = client.search_logged_models([experiment], filter_string=f"source_run_id='{run_id}'")
    expect(
        bool(models),
        "the run has no logged model.",
        "log the trained model with MLflow's PyTorch flavour, inside the run.",
    )
    try:
        return mlflow.pytorch.load_model(models[0].model_uri, map_location="cpu")
    except Exception as error:
        raise CheckFailed(f"the logged model does not reload: {error}".splitlines()[0]) from None


def _check_failure(train_and_track: Any, config, experiment: str) -> None:
    import mlflow

    before = {r.info.run_id for r in _runs(experiment)}
    try:
        train_and_track(config, callbacks=[_FailAtEpoch(1)])
    except TypeError as error:
        if "callbacks" in str(error):
            raise CheckFailed(
                "train_and_track(config, callbacks=[...]) is refused: it should accept "
                "`callbacks` and pass them on to the training.",
            ) from None
        raise CheckFailed(f"train_and_track raised TypeError: {error}") from None
    except RuntimeError:
        pass
    else:
        raise CheckFailed(
            "when training fails mid-run, train_and_track returned as if nothing happened.",
            "let the error reach the caller; the run itself must still be ended.",
        )
    new = [r for r in _runs(experiment) if r.info.run_id not in before]
    expect(
        len(new) == 1,
        f"the failing call made {len(new)} runs, not one.",
        "one call, one run.",
    )
    expect(
        new[0].info.status == "FAILED" and mlflow.active_run() is None,
        f"when training failed mid-run, the run was left {new[0].info.status}"
        + (" and active" if mlflow.active_run() else "")
        + ": in the UI it would look like a run still going on, forever. It should be FAILED.",
        "end the run with the status FAILED when anything inside raises; a `with "
        "mlflow.start_run():` block does it for you.",
    )
