"""Chapter 04: MLflow tracking written by the student. Each check logs into a throwaway SQLite
store of its own and puts the notebook's tracking URI and experiment back afterwards.

4.1 runs the student's ``train_and_track`` on a fresh configuration (model, optimizer, learning
rate, epochs, seed and the sizes of the splits drawn) and reads the run back: the parameters are
the configuration that ran; train_loss, train_accuracy and val_accuracy have one value per epoch
at its step; test_accuracy and test_macro_f1 are the training's; the model reloads and predicts
as trained; the data set logged as the training input is the training split. Then it makes
training fail in its second epoch: the run must end FAILED (never RUNNING, nor FINISHED as if it
had succeeded), with the first epoch's metrics kept. 4.2 (ch04_best_run) asks for the best
finished run on validation.
"""

from __future__ import annotations

import contextlib
import math
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.stores import scratch_store

EPOCH_METRICS = ("train_loss", "train_accuracy", "val_accuracy")  # one per epoch, step=epoch
FINAL_METRICS = ("test_accuracy", "test_macro_f1")
MODEL_NAME = "model"
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


def _check_record(run, data, config, resolved) -> None:
    """The tag ``data_digest`` (the data that trained, every split) and the configuration as
    the file ``config.yaml``: the given one, or the one the training resolved."""
    import yaml
    from mlflow import MlflowClient
    from omegaconf import OmegaConf

    tag = run.data.tags.get("data_digest")
    expect(
        tag == data.digest,
        "the run has no tag data_digest."
        if tag is None
        else f"the run's data_digest is {tag[:16]}..., the data that trained has "
        f"{data.digest[:16]}... (data.digest: every split's images and labels).",
        "tag the run with the digest of the data it used: mlflow.set_tag('data_digest', "
        "data.digest).",
    )
    client = MlflowClient()
    files = {a.path for a in client.list_artifacts(run.info.run_id)}
    expect(
        "config.yaml" in files,
        "the run has no config.yaml among its artifacts"
        + (f" (it has {', '.join(sorted(files))})." if files else "."),
        "log the configuration as a file of the run: mlflow.log_dict(..., 'config.yaml').",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(run.info.run_id, "config.yaml", folder)
        try:
            logged = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError:
            logged = None
    wanted = [OmegaConf.to_container(c, resolve=True) for c in (config, resolved)]
    expect(
        logged in wanted,
        "the run's config.yaml is not the configuration that ran"
        + (
            f": {_first_difference(logged, wanted[0])}."
            if isinstance(logged, dict)
            else " (it is not a YAML mapping)."
        ),
        "log the whole configuration, nested as it is, with its values resolved: "
        "OmegaConf.to_container(config, resolve=True).",
    )


def _first_difference(logged: dict, wanted: dict, prefix: str = "") -> str:
    for key in sorted(set(logged) | set(wanted), key=str):
        name = f"{prefix}{key}"
        if key not in logged:
            return f"{name} is missing"
        if key not in wanted:
            return f"{name} is not in the configuration"
        if isinstance(logged[key], dict) and isinstance(wanted[key], dict):
            found = _first_difference(logged[key], wanted[key], f"{name}.")
            if found:
                return found
        elif logged[key] != wanted[key]:
            return f"{name} is {logged[key]!r}, the configuration says {wanted[key]!r}"
    return ""


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
    expect(
        models[0].name == MODEL_NAME,
        f"the run's logged model is named {models[0].name!r}, not {MODEL_NAME!r}.",
        "give the logged model the name the exercise asks for: without one, MLflow makes "
        "up a random name, which says nothing in the UI.",
    )
    _check_requirements(models[0])
    try:
        return mlflow.pytorch.load_model(models[0].model_uri, map_location="cpu")
    except Exception as error:
        raise CheckFailed(f"the logged model does not reload: {error}".splitlines()[0]) from None


def _scores_of_reloaded(model, inputs):
    """The reloaded model's scores for a batch of 256 test images. MLflow exports the model
    with the input example's shape: an example of one image fixes the batch size to 1, and the
    reloaded model then refuses any other (an assertion error from deep inside torch)."""
    try:
        return model(inputs)
    except Exception as error:
        raised = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        raise CheckFailed(
            f"the logged model, reloaded, cannot score a batch of {len(inputs)} images ({raised}).",
            "MLflow exports the model with the shape of its input_example: give it two images "
            "(an example of one image fixes the batch size to 1).",
        ) from None


def _check_requirements(model) -> None:
    """The logged model says which torch it needs, as pip can install it."""
    import re
    import tempfile

    import mlflow
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{model.artifact_location}/requirements.txt", dst_path=tmp
            )
            lines = [line.strip() for line in Path(path).read_text().splitlines()]
        except Exception:
            lines = []
    torches = [line for line in lines if re.match(r"torch\b(?![-_.\w])", line)]
    expect(
        bool(torches),
        "the logged model's requirements do not say which torch it needs.",
        "give the model's pip requirements: the torch that trained it.",
    )
    public = torch.__version__.split("+")[0]
    pinned = re.match(r"torch\s*==\s*(\S+)", torches[0])
    local = pinned is not None and "+" in pinned.group(1)
    expect(
        pinned is None or pinned.group(1) == public,
        f"the logged model's requirements say {torches[0]!r}: "
        + (
            "pip cannot install a local version (the part after '+') from PyPI."
            if local
            else f"not the torch that trained it ({public})."
        ),
        "pin the torch that trained the model, as pip knows it (its version up to any '+').",
    )


FAILED_AS = {
    "RUNNING": "RUNNING: in the UI it would look like a run still going on, forever",
    "FINISHED": "FINISHED, as if it had succeeded: its numbers would pass for a result",
    "KILLED": "KILLED, as if someone had stopped it: nothing says it crashed",
}


def _check_failure(train_and_track: Any, config, experiment: str) -> None:
    """Training fails at the end of its second epoch (the first one is complete)."""
    import mlflow
    from mlflow import MlflowClient

    before = {r.info.run_id for r in _runs(experiment)}
    try:
        train_and_track(config, callbacks=[_FailAtEpoch(2)])
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
    (run,) = new
    status = run.info.status
    active = " and active" if mlflow.active_run() else ""
    expect(
        status == "FAILED" and not active,
        "when training failed mid-run, the run was left "
        + FAILED_AS.get(status, status)
        + f"{active}. It should be FAILED.",
        "end the run with the status FAILED when anything inside raises; a `with "
        "mlflow.start_run():` block does it for you.",
    )
    client = MlflowClient()
    lost = [
        name
        for name in EPOCH_METRICS
        if 1 not in {m.step for m in client.get_metric_history(run.info.run_id, name)}
    ]
    expect(
        not lost,
        f"training failed in its second epoch, and the failed run has no {', '.join(lost)} "
        "for the first one, which was complete.",
        "log each epoch's metrics when the epoch ends, not after training: a crashed run "
        "keeps its curves up to the crash.",
    )
