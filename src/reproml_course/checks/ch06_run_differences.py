"""Chapter 06's check of what differs between two runs (6.2): pairs of finished runs,
recorded as the course's tracking records them in a scratch store, that differ in one planted
way each (a parameter, a recorded tag, a tag of the runs' own, a data set's digest, several at
once, nothing but the metrics); the student's ``run_differences`` must name exactly what
differs."""

from __future__ import annotations

import random
from typing import Any

from reproml_course.checks.base import call, exercise, expect
from reproml_course.checks.ch06_audit import COURSE_ANSWERS


@exercise(
    "6.2", "name what differs between two runs", points=2, course_answers=COURSE_ANSWERS,
    budget=60,
)  # fmt: skip
def exercise_6_2(run_differences: Any) -> None:
    """run.data.params and run.data.tags are dicts; run.inputs.dataset_inputs is a list whose items
    have .dataset.name and .dataset.digest; key.startswith('mlflow.'); the union of two dicts'
    keys is a.keys() | b.keys(), and dict.get gives None when a key is missing."""
    from mlflow import MlflowClient

    from reproml_course.checks.stores import scratch_store

    rng = random.Random()
    kinds = list(PLANTS)
    rng.shuffle(kinds)
    # Each data set's digest differs in turn; a key only one run has is on each side in turn.
    changed = dict(zip(("input", "several"), rng.sample(DATASETS, 2), strict=True))
    changed.update(zip(("new param side", "several side"), rng.sample("ab", 2), strict=True))
    with scratch_store("check-6.2"):
        client = MlflowClient()
        experiment = client.get_experiment_by_name("check-6.2").experiment_id
        for kind in kinds:
            run_a, run_b, expected = _planted_pair(client, experiment, kind, rng, changed)
            got = call(run_differences, run_a, run_b, what="run_differences(run_a, run_b)")
            _compare_differences(got, expected, PLANTS[kind])


# What differs in each pair the check makes, in words for the messages.
PLANTS = {
    "param": "configurations differ in one value",
    "new param": "configurations differ by a parameter one of them does not have",
    "tag": "environments differ in one recorded tag",
    "unknown tag": "records differ in a tag of the runs' own (not one the course records)",
    "missing tag": "records differ by a tag only one of them has",
    "input": "data sets differ (one digest)",
    "several": "records differ in several places at once",
    "nothing": "records are identical (only the metrics differ)",
}
DATASETS = ("fashion-mnist-training", "fashion-mnist-testing")
ENVIRONMENT_TAGS = (
    "git_commit", "git_dirty", "uv_lock_sha256", "python", "torch", "torchvision", "reproml",
    "platform", "device", "data_digest", "command",
)  # fmt: skip


def _planted_pair(client, experiment: str, kind: str, rng: random.Random, changed: dict):
    """Two finished runs, recorded as the course's tracking records them, that differ by
    ``kind``; and the differences a right answer reports. ``changed``: the data set whose
    digest differs, and the run that has a parameter the other has not, for the kinds that
    change them."""
    params = {
        "model.name": rng.choice(["mlp", "cnn", "logreg"]),
        "optimizer.name": rng.choice(["sgd", "adam", "adamw"]),
        "optimizer.lr": str(rng.choice([0.1, 0.01, 0.001])),
        "trainer.batch_size": str(rng.choice([32, 64, 128])),
        "trainer.epochs": str(rng.randint(2, 15)),
        "seed": str(rng.randint(0, 9999)),
        "data.root": "data",
    }
    commit = f"{rng.getrandbits(160):040x}"
    tags = {
        "git_commit": commit,
        "git_dirty": "false",
        "uv_lock_sha256": f"{rng.getrandbits(256):064x}",
        "python": "3.11.7",
        "torch": rng.choice(["2.5.1", "2.6.0", "2.7.1"]),
        "torchvision": rng.choice(["0.20.1", "0.21.0", "0.22.1"]),
        "reproml": "0.1.0",
        "platform": "Linux-6.8.0-x86_64-with-glibc2.39",
        "device": "cpu",
        "data_digest": f"{rng.getrandbits(128):032x}",
        "command": "ipykernel_launcher.py -f kernel.json",
        "mlflow.source.name": "ipykernel_launcher.py",
        "mlflow.source.git.commit": commit,
        "mlflow.user": "student",
    }
    digests = {name: f"{rng.getrandbits(32):08x}" for name in DATASETS}
    a = {"params": dict(params), "tags": dict(tags), "inputs": dict(digests)}
    b = {"params": dict(params), "tags": dict(tags), "inputs": dict(digests)}
    expected: dict[str, tuple] = {}

    def change(where: str, key: str, value: str) -> None:
        b[where][key] = value
        expected[f"{where}.{key}"] = (a[where][key], value)

    def one_side(where: str, key: str, value: str, side: str) -> None:
        present, absent = (a, b) if side == "a" else (b, a)
        present[where][key] = value
        absent[where].pop(key, None)
        expected[f"{where}.{key}"] = (a[where].get(key), b[where].get(key))

    if kind in ("param", "several"):
        key = rng.choice(sorted(params))
        change("params", key, _other_value(params[key], rng))
    if kind in ("new param", "several"):
        side = changed[f"{kind} side"]
        one_side("params", rng.choice(["trainer.lr_schedule", "model.dropout"]), "0.25", side)
    if kind in ("tag", "several"):  # several: the commit, which MLflow's own tag copies
        key = rng.choice(ENVIRONMENT_TAGS) if kind == "tag" else "git_commit"
        change("tags", key, _other_value(tags[key], rng))
        if key == "git_commit":  # MLflow's copy changes with it, and names no cause
            b["tags"]["mlflow.source.git.commit"] = b["tags"]["git_commit"]
    if kind == "unknown tag":
        key = rng.choice(["threads", "hostname", "cuda_visible_devices"])
        a["tags"][key] = "2"
        change("tags", key, "8")
    if kind == "missing tag":
        key = rng.choice(ENVIRONMENT_TAGS)
        one_side("tags", key, tags[key], rng.choice("ab"))
    if kind in ("input", "several"):
        change("inputs", changed[kind], f"{rng.getrandbits(32):08x}")
    run_a = _log_run(client, experiment, "A", a, rng)
    run_b = _log_run(client, experiment, "B", b, rng)
    return run_a, run_b, expected


def _other_value(value: str, rng: random.Random) -> str:
    """A value of the same kind as ``value``, never equal to it."""
    if value in ("true", "false"):
        return "true" if value == "false" else "false"
    try:
        number = float(value)
    except ValueError:
        return value + rng.choice(["-rc1", ".post1", "x"])
    if value.isdigit():
        return str(int(number) * 2 + 1)
    return str(number / 2)


def _log_run(client, experiment: str, name: str, record: dict, rng: random.Random):
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    run = client.create_run(experiment, run_name=f"run-{name}-{rng.randint(100, 999)}")
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("test_accuracy", rng.uniform(0.7, 0.9), 0, 0)],
        params=[Param(k, v) for k, v in record["params"].items()],
        tags=[RunTag(k, v) for k, v in record["tags"].items()]
        + [RunTag("model_uri", f"models:/m-{rng.getrandbits(128):032x}")],
    )
    datasets = [
        DatasetInput(
            Dataset(n, digest, "local", '{"uri": "data"}'),
            [InputTag("mlflow.data.context", n.rsplit("-", 1)[1])],
        )
        for n, digest in record["inputs"].items()
    ]
    client.log_inputs(run_id, datasets=datasets)
    client.set_terminated(run_id)
    return client.get_run(run_id)


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
