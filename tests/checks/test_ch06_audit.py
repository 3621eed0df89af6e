"""Chapter 06's checks against the mistakes students make: weights compared without their
names or buffers; a comparison of runs that looks at parameters only, lists MLflow's own tags
or the metrics, misses one-sided keys or the data; a training function seeded through the
global generators, or with one of its three random draws left unseeded."""

import random

import pytest
import torch
from solution_cells import code_cell, define, mutate


def test_same_weights(evaluate):
    def right(a, b):
        a, b = a.state_dict(), b.state_dict()
        return a.keys() == b.keys() and all(
            a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
        )

    def parameters_only(a, b):
        pa, pb = list(a.parameters()), list(b.parameters())
        return len(pa) == len(pb) and all(
            x.shape == y.shape and torch.equal(x, y) for x, y in zip(pa, pb, strict=True)
        )

    def close_enough(a, b):
        a, b = a.state_dict(), b.state_dict()
        return a.keys() == b.keys() and all(
            a[k].shape == b[k].shape and torch.allclose(a[k].float(), b[k].float()) for k in a
        )

    def values_in_order(a, b):  # the names ignored
        return all(
            x.shape == y.shape and torch.equal(x, y)
            for x, y in zip(a.state_dict().values(), b.state_dict().values())  # noqa: B905
        )

    def same_count_in_order(a, b):
        va, vb = list(a.state_dict().values()), list(b.state_dict().values())
        return len(va) == len(vb) and all(
            x.shape == y.shape and torch.equal(x, y) for x, y in zip(va, vb, strict=True)
        )

    assert evaluate("6.1", right) == (True, "passed")
    assert "batch-norm running statistics" in evaluate("6.1", parameters_only)[1]
    assert "differs in its last bit" in evaluate("6.1", close_enough)[1]
    assert "under other names" not in evaluate("6.1", right)[1]
    assert "their parameters have other names" in evaluate("6.1", same_count_in_order)[1]
    passed, said = evaluate("6.1", values_in_order)
    assert not passed and ("other names" in said or "one more layer" in said)


DIFFERENCES = code_cell("06_reproducibility_audit.ipynb", "def run_differences")
TRAIN_SMALL = code_cell("06_reproducibility_audit.ipynb", "def train_small")


def differences(old: str = "", new: str = ""):
    code = mutate(DIFFERENCES, old, new) if old else DIFFERENCES
    code = code[: code.index("client = mlflow.MlflowClient()")]
    return define(code, "run_differences")


def test_the_solution_passes_6_2(evaluate):
    assert evaluate("6.2", differences()) == (True, "passed")


DIFFERENCE_MISTAKES = {
    "parameters only": (("return {**params, **tags, **inputs}", "return params"),
                        "your answer misses the difference"),
    "no data sets": (("return {**params, **tags, **inputs}", "return {**params, **tags}"),
                     "your answer misses the difference"),
    "MLflow's tags too": (('if not k.startswith("mlflow.") and k != "model_uri"',
                           'if k != "model_uri"'), "MLflow's own tags"),
    "the model's address too": (('if not k.startswith("mlflow.") and k != "model_uri"',
                                 'if not k.startswith("mlflow.")'), "`model_uri`"),
    "keys of run A only": (("sorted(a.keys() | b.keys())", "sorted(a)"),
                           "your answer misses the difference"),
    "keys both have only": (("sorted(a.keys() | b.keys())", "sorted(a.keys() & b.keys())"),
                            "your answer misses the difference"),
    "the metrics too": (("return {**params, **tags, **inputs}",
                         "return {**params, **tags, **inputs, "
                         "**{f'metrics.{k}': v for k, v in run.data.metrics.items()}}"),
                        "lists metrics"),
    "the values swapped": (("(a.get(k), b.get(k))", "(b.get(k), a.get(k))"),
                           "the values you report are not"),
    "empty strings for a missing side": (("(a.get(k), b.get(k))", "(a.get(k, ''), b.get(k, ''))"),
                                         "the values you report are not"),
    "inputs by position": (('f"inputs.{i.dataset.name}": i.dataset.digest',
                            'f"inputs.{n}": i.dataset.digest'), "misses the difference"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", DIFFERENCE_MISTAKES)
def test_a_wrong_comparison_fails_6_2(evaluate, mistake):
    (old, new), message = DIFFERENCE_MISTAKES[mistake]
    if mistake == "inputs by position":
        new_code = mutate(
            DIFFERENCES,
            "for i in run.inputs.dataset_inputs}",
            "for n, i in enumerate(run.inputs.dataset_inputs)}",
        )
        code = mutate(new_code, old, new)
        run_differences = define(code[: code.index("client = mlflow")], "run_differences")
    else:
        run_differences = differences(old, new)
    passed, said = evaluate("6.2", run_differences)
    assert not passed and message in said, said


def train_small(old: str = "", new: str = ""):
    code = mutate(TRAIN_SMALL, old, new) if old else TRAIN_SMALL
    code = code[: code.index("same_weights(train_small")]
    import torch.nn.functional as F

    return define(code, "train_small", {"torch": torch, "random": random, "F": F})


def test_the_solution_passes_6_3(evaluate):
    assert evaluate("6.3", train_small()) == (True, "passed")


TRAINING_MISTAKES = {
    "the global generators seeded": (
        ("    shuffler = random.Random(seed)\n    with torch.random.fork_rng(devices=[]):",
         "    random.seed(seed)\n    shuffler = random\n    if True:"),
        "changed torch's global random state"),
    "Python's global generator seeded": (
        ("    shuffler = random.Random(seed)\n", "    random.seed(seed)\n    shuffler = random\n"),
        "changed Python's global random state"),
    "the shuffle left unseeded": (("shuffler = random.Random(seed)", "shuffler = random.Random()"),
                                  "gave different weights"),
    "torch left unseeded": (("        torch.manual_seed(seed)\n", ""), "gave different weights"),
    "a fixed seed": (("torch.manual_seed(seed)", "torch.manual_seed(0)"), "gave the same weights"),
    "the shuffle's global generator": (("shuffler.shuffle(order)", "random.shuffle(order)"),
                                       "changed Python's global random state"),
    "no learning at all": (("optimizer.step()", "pass"), "no longer learns"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", TRAINING_MISTAKES)
def test_a_wrong_fix_fails_6_3(evaluate, mistake):
    (old, new), message = TRAINING_MISTAKES[mistake]
    if mistake == "a fixed seed":
        code = mutate(TRAIN_SMALL, "random.Random(seed)", "random.Random(0)")
        code = mutate(code, old, new)
        import torch.nn.functional as F

        fixed = define(code[: code.index("same_weights(train_small")], "train_small",
                       {"torch": torch, "random": random, "F": F})  # fmt: skip
    else:
        fixed = train_small(old, new)
    passed, said = evaluate("6.3", fixed)
    assert not passed and message in said, said
