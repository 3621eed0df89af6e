"""Chapter 06: the reproducibility audit."""

from __future__ import annotations

import copy
import random
from typing import Any

from reproml.checks.base import call, exercise, expect


@exercise("6.1", "prove two trained models identical, weight by weight", points=2)
def exercise_6_1(same_weights: Any) -> None:
    """model.state_dict() holds parameters and buffers under their names; compare the keys first,
    then each tensor with torch.equal (torch.allclose forgives the last bits)."""
    import torch

    from reproml.models import CNN, MLP

    torch.manual_seed(random.randrange(10**6))
    model = MLP(hidden_sizes=(random.choice([16, 32]),))
    twin = copy.deepcopy(model)
    expect(
        call(same_weights, model, twin, what="same_weights(model, copy)") is True,
        "same_weights says a model and its exact copy differ (or returned a non-bool).",
        "compare every tensor of model.state_dict() with torch.equal, and return True/False.",
    )
    nudged = copy.deepcopy(model)
    with torch.no_grad():
        layer = random.choice([p for p in nudged.parameters()])
        weight = layer.view(-1)[random.randrange(layer.numel())]
        # The next float32 up: a different bit pattern, yet inside torch.allclose's tolerance.
        weight.copy_(torch.nextafter(weight, torch.tensor(float("inf"))))
    expect(
        call(same_weights, model, nudged, what="same_weights(model, nudged)") is False,
        "same_weights says two models are identical although one weight differs in its last bit.",
        "bitwise identical is the test here: torch.equal, not torch.allclose.",
    )
    different = call(same_weights, model, CNN(), what="same_weights(mlp, cnn)")
    expect(
        different is False,
        "same_weights should say False for two different architectures.",
        "models with different parameter names or shapes are not identical.",
    )
    batch_norm = CNN()
    trained = copy.deepcopy(batch_norm)
    trained.train()
    with torch.no_grad():
        trained(torch.randn(4, 1, 28, 28))  # updates batch-norm running stats, not parameters
    expect(
        call(same_weights, batch_norm, trained, what="same_weights(cnn, cnn_after_forward)")
        is False,
        "same_weights misses a difference in the batch-norm running statistics.",
        "model.parameters() is not everything: state_dict() also holds the buffers.",
    )
    _check_names_and_count(same_weights)


def _check_names_and_count(same_weights: Any) -> None:
    """The same tensors under other names, and one model that is the other plus a layer:
    comparing the values in order (zip) says identical to both."""
    import torch
    from torch import nn

    first = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 10))
    renamed = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.Dropout(), nn.ReLU())
    renamed.append(nn.Linear(8, 10))
    with torch.no_grad():
        for a, b in zip(first.parameters(), renamed.parameters(), strict=True):
            b.copy_(a)  # the same numbers, in the same order, under other names
    expect(
        call(same_weights, first, renamed, what="same_weights(model, renamed)") is False,
        "same_weights says two models are identical although their parameters have other "
        "names (net.3.weight is not net.4.weight).",
        "compare tensor by name, not in order.",
    )
    longer = nn.Sequential(*first, nn.ReLU(), nn.Linear(10, 10))
    expect(
        call(same_weights, first, longer, what="same_weights(model, model_plus_a_layer)") is False,
        "same_weights says a model is identical to itself plus one more layer.",
        "two models with a different number of tensors cannot be identical.",
    )


@exercise("6.2", "name what differs between two runs", points=2)
def exercise_6_2(run_differences: Any) -> None:
    """run.data.params and run.data.tags are dicts; run.inputs.dataset_inputs is a list whose items
    have .dataset.name and .dataset.digest; key.startswith('mlflow.'); the union of two dicts'
    keys is a.keys() | b.keys(), and dict.get gives None when a key is missing."""
    from mlflow import MlflowClient

    from reproml.checks.stores import scratch_store

    rng = random.Random()
    kinds = list(PLANTS)
    rng.shuffle(kinds)
    with scratch_store("check-6.2"):
        client = MlflowClient()
        experiment = client.get_experiment_by_name("check-6.2").experiment_id
        for kind in kinds:
            run_a, run_b, expected = _planted_pair(client, experiment, kind, rng)
            got = call(run_differences, run_a, run_b, what="run_differences(run_a, run_b)")
            _compare_differences(got, expected, PLANTS[kind])


# What differs in each pair the check makes, in words for the messages.
PLANTS = {
    "param": "configurations differ in one value",
    "new param": "configurations differ by a parameter one of them does not have",
    "tag": "environments differ (one package version)",
    "missing tag": "records differ by a tag only one of them has",
    "input": "training data files differ",
    "nothing": "records are identical (only the metrics differ)",
}


def _planted_pair(client, experiment: str, kind: str, rng: random.Random):
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    params = {
        "model.name": rng.choice(["mlp", "cnn", "logreg"]),
        "optimizer.lr": str(rng.choice([0.1, 0.01, 0.001])),
        "trainer.batch_size": str(rng.choice([32, 64, 128])),
        "trainer.epochs": str(rng.randint(2, 15)),
        "seed": str(rng.randint(0, 9999)),
        "data.root": "data",
    }
    tags = {
        "git_commit": f"{rng.getrandbits(160):040x}",
        "git_dirty": "false",
        "uv_lock_sha256": f"{rng.getrandbits(256):064x}",
        "python": "3.11.7",
        "torch": rng.choice(["2.5.1", "2.6.0", "2.7.1"]),
        "device": "cpu",
        "data_digest": f"{rng.getrandbits(128):032x}",
        "mlflow.source.name": "ipykernel_launcher.py",
        "mlflow.user": "student",
    }
    outputs = {"model_uri": "models:/m-{:032x}"}
    digests = {"fashion-mnist-training": "a1b2c3d4", "fashion-mnist-testing": "e5f6a7b8"}
    a_params, b_params = dict(params), dict(params)
    a_tags, b_tags = dict(tags), dict(tags)
    a_digests, b_digests = dict(digests), dict(digests)
    expected: dict[str, tuple] = {}
    if kind == "param":
        key = rng.choice(["optimizer.lr", "trainer.batch_size", "seed"])
        b_params[key] = str(int(float(params[key]) * 2) if key != "optimizer.lr" else 0.05)
        expected[f"params.{key}"] = (a_params[key], b_params[key])
    elif kind == "new param":
        b_params["trainer.lr_schedule"] = "cosine"
        expected["params.trainer.lr_schedule"] = (None, "cosine")
    elif kind == "tag":
        b_tags["torch"] = "2.8.0"
        expected["tags.torch"] = (a_tags["torch"], "2.8.0")
    elif kind == "missing tag":
        a_tags["device"] = "cuda:0"
        del b_tags["device"]
        expected["tags.device"] = ("cuda:0", None)
    elif kind == "input":
        b_digests["fashion-mnist-training"] = "0f9e8d7c"
        expected["inputs.fashion-mnist-training"] = ("a1b2c3d4", "0f9e8d7c")
    runs = []
    for name, p, t, d in (("A", a_params, a_tags, a_digests), ("B", b_params, b_tags, b_digests)):
        run = client.create_run(experiment, run_name=f"run-{name}-{rng.randint(100, 999)}")
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("test_accuracy", rng.uniform(0.7, 0.9), 0, 0)],
            params=[Param(k, v) for k, v in p.items()],
            tags=[RunTag(k, v) for k, v in t.items()]
            + [RunTag(k, v.format(rng.getrandbits(128))) for k, v in outputs.items()],
        )
        datasets = [
            DatasetInput(
                Dataset(n, digest, "local", '{"uri": "data"}'),
                [InputTag("mlflow.data.context", n.rsplit("-", 1)[1])],
            )
            for n, digest in d.items()
        ]
        client.log_inputs(run_id, datasets=datasets)
        client.set_terminated(run_id)
        runs.append(client.get_run(run_id))
    return runs[0], runs[1], expected


def _compare_differences(got: Any, expected: dict, what: str) -> None:
    expect(
        isinstance(got, dict),
        f"run_differences returned a {type(got).__name__}, not a dict.",
        "map each key that differs to its two values.",
    )
    extra = sorted(set(got) - set(expected))
    expect(
        not [k for k in extra if k.startswith("metrics.")],
        "your answer lists metrics: they differ whenever two runs disagree, they are what "
        "needs explaining, not the cause.",
        "compare what went into the runs: parameters, tags, data.",
    )
    expect(
        not [k for k in extra if k.startswith("tags.mlflow.")],
        "your answer lists MLflow's own tags (the run's name...): they differ between any "
        "two runs, so they name no cause.",
        "MLflow's bookkeeping tags all start with `mlflow.`.",
    )
    expect(
        "tags.model_uri" not in extra,
        "your answer lists `model_uri`: each run's model is its own output, not a cause.",
    )
    missing = sorted(set(expected) - set(got))
    expect(
        not missing,
        f"for two runs whose {what}, your answer misses the difference"
        + (f" (it found {sorted(got)} instead)." if got else "."),
        "compare parameters, tags and the data sets' digests, and count a key that only one "
        "run has.",
    )
    expect(
        not extra,
        f"for two runs whose {what}, your answer also lists {extra}, which do not differ.",
    )
    for key, values in expected.items():
        expect(
            isinstance(got[key], tuple | list) and tuple(got[key]) == values,
            f"for two runs whose {what}, the values you report are not the two runs' "
            f"({key}: {got[key]!r}).",
            "(value in run A, value in run B), None for the side that does not have it.",
        )
