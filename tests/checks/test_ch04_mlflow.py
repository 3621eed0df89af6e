"""Chapter 04's checks against the tracking code students really write.

4.1, each a mutation of the solution's cell: parameters typed by hand or nested; epoch metrics
without a step, one step off, train_accuracy left out or given another value, or logged from
the history after training (a crashed run then keeps no curve); test_macro_f1 left out; no
model, or one without its name (MLflow makes one up) or its requirements (MLflow infers them,
seconds per run), or with an input example of one image (the exported model then takes
batches of one only); a second run opened; no data set, or the test or validation split (or
training and validation together) logged as the training input, or the training split under another
context or none, or without its labels; no data_digest tag, the digest logged as a parameter
or of the training split only; no config.yaml, the configuration as config.json, flattened, or
typed by hand; the model's torch pinned to a local version (``+cu121``,
which pip cannot install) or to another version; a run left RUNNING, or ended FINISHED, when
training crashes; the failure swallowed; callbacks not passed on; a store of its own; the
course's own run_experiment called.

4.2: see CHOICE_MISTAKES below."""

from __future__ import annotations

import mlflow
import pytest
from solution_cells import code_cell, define, mutate

TRACKING = code_cell("04_mlflow.ipynb", "def train_and_track")
BEST = code_cell("04_mlflow.ipynb", "def best_run")


@pytest.fixture(autouse=True)
def _data(hard_synthetic, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))


def tracker(old: str = "", new: str = ""):
    code = mutate(TRACKING, old, new) if old else TRACKING
    return define(code, "train_and_track", {"mlflow": mlflow})


def test_the_solution_passes_4_1(evaluate):
    assert evaluate("4.1", tracker()) == (True, "passed")


START_RUN = (
    "    with mlflow.start_run(run_name=f\"{params['model.name']}-{params['optimizer.name']}\"):\n"
)
TRACKING_MISTAKES = {
    "parameters typed by hand": (
        ("mlflow.log_params(params)",
         'mlflow.log_params({"model": params["model.name"], "lr": config.optimizer.lr})'),
        "the run's parameters are not the configuration that ran",
    ),
    "parameters nested": (
        ("mlflow.log_params(params)",
         "mlflow.log_params(dict(config))"),
        "the run's parameters are not the configuration that ran",
    ),
    "epoch metrics without a step": (
        ("            step=record.epoch,\n", ""),
        "has values at steps",
    ),
    "no model": (
        ("        mlflow.pytorch.log_model(", "        (lambda *args, **kwargs: None)("),
        "the run has no logged model",
    ),
    "no data set": (
        ('        mlflow.log_input(train_set, context="training")\n', ""),
        "the run has no data set among its inputs",
    ),
    "a run left open when training fails": (
        (START_RUN,
         "    mlflow.start_run()\n    if True:\n"),
        "the run was left RUNNING",
    ),
    "the failure swallowed": (
        ("        result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])",
         "        try:\n"
         "            result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])\n"
         "        except RuntimeError:\n"
         "            return None"),
        "returned as if nothing happened",
    ),
    "callbacks not passed on": (
        ("callbacks=[LogEpoch(), *callbacks]", "callbacks=[LogEpoch()]"),
        "returned as if nothing happened",
    ),
    "a store of its own": (
        ("    with mlflow.start_run(",
         "    mlflow.set_tracking_uri('sqlite:///elsewhere.db')\n    with mlflow.start_run("),
        "train_and_track changed the tracking URI",
    ),
    "no train_accuracy": (
        ('                "train_accuracy": record.train_accuracy,\n', ""),
        "the run's train_accuracy has values at steps []",
    ),
    "train_accuracy given the validation accuracy": (
        ('"train_accuracy": record.train_accuracy', '"train_accuracy": record.val_accuracy'),
        "the run's train_accuracy per epoch is",
    ),
    "one step off": (
        ("            step=record.epoch,\n", "            step=record.epoch - 1,\n"),
        "has values at steps [0, 1",
    ),
    "the history logged after training": (
        ("        mlflow.log_metrics(\n            {\n",
         "        return\n        mlflow.log_metrics(\n            {\n"),
        "the failed run has no train_loss, train_accuracy, val_accuracy for the first one",
    ),
    "test_macro_f1 left out": (
        ('{k: v for k, v in result.metrics.items() if k.startswith("test_")}',
         '{"test_accuracy": result.metrics["test_accuracy"]}'),
        "the run has no test_macro_f1",
    ),
    "the test split as the training input": (
        ("data.train.images.numpy(), targets=data.train.labels.numpy()",
         "data.test.images.numpy(), targets=data.test.labels.numpy()"),
        "rows: the test split, not the",
    ),
    "the validation split as the training input": (
        ("data.train.images.numpy(), targets=data.train.labels.numpy()",
         "data.val.images.numpy(), targets=data.val.labels.numpy()"),
        "rows: the validation split, not the",
    ),
    "training and validation together": (
        ("data.train.images.numpy(), targets=data.train.labels.numpy()",
         "__import__('numpy').concatenate([data.train.images.numpy(), data.val.images.numpy()])"),
        "rows: the training and validation images together",
    ),
    "the training split under another context": (
        ('mlflow.log_input(train_set, context="training")',
         'mlflow.log_input(train_set, context="testing")'),
        "none as the training input",
    ),
    "the training split without a context": (
        ('mlflow.log_input(train_set, context="training")', "mlflow.log_input(train_set)"),
        "none as the training input",
    ),
    "no digest tag": (
        ('        mlflow.set_tag("data_digest", data.digest)\n', ""),
        "the run has no tag data_digest",
    ),
    "the digest as a parameter": (
        ('mlflow.set_tag("data_digest", data.digest)',
         'mlflow.log_param("data_digest", data.digest)'),
        "the run has no tag data_digest",
    ),
    "the digest of the training split only": (
        ('mlflow.set_tag("data_digest", data.digest)',
         'mlflow.set_tag("data_digest", __import__("reproml.data").data.sha256_of('
         "data.train.images, data.train.labels))"),
        "the run's data_digest is",
    ),
    "no configuration file": (
        ('        mlflow.log_dict(OmegaConf.to_container(config, resolve=True), "config.yaml")\n',
         ""),
        "the run has no config.yaml among its artifacts",
    ),
    "the configuration as JSON": (
        ('"config.yaml")', '"config.json")'),
        "the run has no config.yaml among its artifacts (it has config.json",
    ),
    "the configuration flattened": (
        ("mlflow.log_dict(OmegaConf.to_container(config, resolve=True),",
         "mlflow.log_dict(flatten_config(config),"),
        "the run's config.yaml is not the configuration that ran: augment is missing",
    ),
    "the parameters typed by hand in the file": (
        ("mlflow.log_dict(OmegaConf.to_container(config, resolve=True),",
         'mlflow.log_dict({"model": dict(config.model), "optimizer": dict(config.optimizer)},'),
        # "augment is missing", or "it is not a YAML mapping" when the drawn model or optimizer
        # holds a list (dict() leaves it an OmegaConf ListConfig, which YAML cannot write)
        "the run's config.yaml is not the configuration that ran",
    ),
    "the images without their labels": (
        ("data.train.images.numpy(), targets=data.train.labels.numpy()",
         "data.train.images.numpy()"),
        "holds the images but not their labels",
    ),
    "the model's name left out": (
        ('            name="model",\n', ""),
        "the run's logged model is named",
    ),
    "no pip requirements": (
        ("            pip_requirements=[f\"torch=={torch.__version__.split('+')[0]}\"],\n", ""),
        "MLflow had to find out the model's requirements itself",
    ),
    "torch's local version": (
        ("split('+')[0]}", "split('+')[0]}+cpu"),
        "pip cannot install a local version",
    ),
    "another torch": (
        ("torch=={torch.__version__.split('+')[0]}", "torch==1.0.0"),
        "not the torch that trained it",
    ),
    "a crash that ends the run FINISHED": (
        (START_RUN,
         "    mlflow.start_run()\n    try:\n"),
        "the run was left FINISHED, as if it had succeeded",
    ),
    "the model logged after the run ended": (
        ("        mlflow.pytorch.log_model(",
         "        mlflow.end_run()\n        mlflow.pytorch.log_model("),
        "the run has no logged model",
    ),
    "an input example of one image": (
        ("normalize(data.test.images[:2])", "normalize(data.test.images[:1])"),
        "cannot score a batch of",
    ),
    "a second run, nested": (
        ("        mlflow.pytorch.log_model(",
         "        with mlflow.start_run(nested=True):\n"
         "            mlflow.log_metric('test_accuracy', result.metrics['test_accuracy'])\n"
         "        mlflow.pytorch.log_model("),
        "one call should make one run in the active experiment; found 2",
    ),
}  # fmt: skip


@pytest.mark.slow  # each trains twice: about 8 s
@pytest.mark.parametrize("mistake", TRACKING_MISTAKES)
def test_wrong_tracking_code_fails_4_1(evaluate, mistake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a stray relative store would go
    (old, new), message = TRACKING_MISTAKES[mistake]
    code = mutate(TRACKING, old, new)
    if mistake == "a run left open when training fails":  # ended by hand, when all goes well
        code = mutate(code, "    return result", "    mlflow.end_run()\n    return result")
    if mistake == "a crash that ends the run FINISHED":  # ended in a finally, status FINISHED
        code = mutate(
            code, "    return result", "    finally:\n        mlflow.end_run()\n    return result"
        )
    if mistake == "the history logged after training":
        code = mutate(
            code,
            "        result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])\n",
            "        result = train(config, data=data, callbacks=[LogEpoch(), *callbacks])\n"
            "        for r in result.history:\n"
            "            mlflow.log_metrics({'train_loss': r.train_loss, 'train_accuracy': "
            "r.train_accuracy, 'val_accuracy': r.val_accuracy}, step=r.epoch)\n",
        )
    passed, said = evaluate("4.1", define(code, "train_and_track", {"mlflow": mlflow}))
    assert not passed and message in said


def test_the_course_s_tracking_is_refused_4_1(evaluate):
    from reproml.experiment import run_experiment

    def train_and_track(config, callbacks=()):
        config.tracking = {"_target_": "reproml.tracking.mlflow.MlflowTracker"}
        return run_experiment(config, callbacks=callbacks)

    passed, said = evaluate("4.1", train_and_track)
    assert not passed and "`reproml.experiment.run_experiment`" in said, said


def chooser(*changes: tuple[str, str]):
    code = BEST
    for old, new in changes:
        code = mutate(code, old, new)
    return define(code, "best_run", {"mlflow": mlflow})


def test_the_solution_passes_4_2(evaluate):
    for _ in range(3):
        assert evaluate("4.2", chooser()) == (True, "passed")


def by_hand(experiment_name):  # also right: the client, and Python's own max
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    runs = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if r.info.status == "FINISHED" and "val_accuracy" in r.data.metrics
    ]
    best = max(runs, key=lambda r: r.data.metrics["val_accuracy"])
    return best.info.run_id, best.data.metrics["test_accuracy"]


def test_a_choice_by_hand_passes_4_2(evaluate):
    assert evaluate("4.2", by_hand) == (True, "passed")


def best_epoch(experiment_name):
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id], "attributes.status = 'FINISHED'")

    def top(run):
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        return max((m.value for m in history), default=float("-inf"))

    best = max(runs, key=top)
    return best.info.run_id, best.data.metrics["test_accuracy"]


FILTER = "filter_string=\"attributes.status = 'FINISHED'\","
ORDER = 'order_by=["metrics.val_accuracy DESC"]'
RETURN = 'return best["run_id"], float(best["metrics.test_accuracy"])'
CHOICE_MISTAKES = {
    "on the test set": (
        [(ORDER, 'order_by=["metrics.test_accuracy DESC"]')],
        "chose the run with the best *test* accuracy",
    ),
    "every status": (
        [(FILTER, "")],
        "chose a run that is",
    ),
    "only FAILED left out": (
        [(FILTER, "filter_string=\"attributes.status != 'FAILED'\",")],
        "chose a run that is",
    ),
    "FAILED and KILLED left out": (
        [(FILTER, "filter_string=\"attributes.status != 'FAILED' AND "
                  "attributes.status != 'KILLED'\",")],
        "chose a run that is",
    ),
    "FAILED left out with pandas": (
        [(FILTER, ""),
         ("    best = runs.iloc[0]", "    best = runs[runs.status != 'FAILED'].iloc[0]")],
        "chose a run that is",
    ),
    "the validation accuracy reported": (
        [('float(best["metrics.test_accuracy"])', 'float(best["metrics.val_accuracy"])')],
        "that is its validation accuracy",
    ),
    "the best test accuracy reported": (
        [('float(best["metrics.test_accuracy"])', 'float(runs["metrics.test_accuracy"].max())')],
        "as the test accuracy of the chosen run",
    ),
    "the test accuracy as text": (
        [('float(best["metrics.test_accuracy"])', 'str(best["metrics.test_accuracy"])')],
        "as the test accuracy of the chosen run",
    ),
    "every experiment": (
        [("experiment_names=[experiment_name],", "search_all_experiments=True,")],
        "chose a run of another experiment than the one named",
    ),
    "the active experiment": (
        [("experiment_names=[experiment_name],", "")],
        "chose a run of another experiment than the one named",
    ),
    "every name that starts the same": (
        [("experiment_names=[experiment_name],",
          "experiment_ids=[e.experiment_id for e in mlflow.search_experiments("
          "filter_string=f\"name LIKE '{experiment_name}%'\")],")],
        "chose a run of another experiment than the one named",
    ),
    "every column without a value dropped": (
        [('.dropna(subset=["metrics.val_accuracy"])', ".dropna()")],
        "raised IndexError",  # every run lacks the parameters of the other optimizer
    ),
    "the lowest": (
        [(ORDER, 'order_by=["metrics.val_accuracy ASC"]')],
        "but another finished run has",
    ),
    "no order (the newest)": (
        [(ORDER + ",", "")],
        "but another finished run has",
    ),
    "the run's name": (
        [(RETURN, 'return best["tags.mlflow.runName"], float(best["metrics.test_accuracy"])')],
        "which is no run of that experiment",
    ),
    "the id alone": (
        [(RETURN, 'return best["run_id"]')],
        "best_run should return (run_id, test_accuracy)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", [*CHOICE_MISTAKES, "the best epoch"])
def test_a_wrong_choice_fails_4_2(evaluate, mistake):
    if mistake == "the best epoch":
        answer, message = best_epoch, "whose best epoch had the highest val_accuracy"
    else:
        changes, message = CHOICE_MISTAKES[mistake]
        answer = chooser(*changes)
    passed, said = evaluate("4.2", answer)  # its cases are drawn to show every mistake
    assert not passed and message in said, said
