"""Chapter 06's checks against the mistakes students make.

6.1, comparing two models weight by weight:
- parameters only (the batch-norm buffers missed); torch.allclose (the last bits forgiven);
- the values zipped in order, names ignored (with or without counting them);
- keys and shapes only, or one summary per tensor (its sum), or the first tensor only;
- the models' repr compared (the architecture, not the weights); `is` (the same object);
- a tensor returned instead of a bool; the checks' own comparison borrowed.
6.2, what differs between two runs:
- parameters only; no data sets; MLflow's own tags or the model's address listed; the metrics;
- keys of run A only, of run B only, or of both only; values swapped; empty strings for a
  missing side;
- inputs by position, or by their context; the training set's digest only;
- a fixed list of the tags the course records; the first difference only;
- the course's own audit code borrowed.
6.3, a deterministic training function:
- the global generators seeded (torch's, Python's); the shuffle's global generator used;
- the shuffle left unseeded; torch left unseeded; torch seeded around the weights only;
- a fixed seed for torch, or for the shuffle; the shuffle dropped; shuffled once for all
  epochs; dropout dropped; seed 0 taken for "no seed"; no learning at all;
- the course's own batch-order generator borrowed.
Right variants accepted: a torch.Generator's randperm for the order; a DataLoader with a
generator; every draw from one torch.Generator, dropout written by hand.
"""

import random

import pytest
import torch
from solution_cells import code_cell, define, mutate

SAME_WEIGHTS = code_cell("06_reproducibility_audit.ipynb", "def same_weights")
SAME_WEIGHTS = SAME_WEIGHTS[: SAME_WEIGHTS.index("same_weights(first.model")]


def same_weights(old: str = "", new: str = ""):
    code = mutate(SAME_WEIGHTS, old, new) if old else SAME_WEIGHTS
    return define(code, "same_weights", {"torch": torch})


def test_the_solution_passes_6_1(evaluate):
    assert evaluate("6.1", same_weights()) == (True, "passed")


def parameters_only(a, b):
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    return pa.keys() == pb.keys() and all(
        pa[k].shape == pb[k].shape and torch.equal(pa[k], pb[k]) for k in pa
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


def shapes_only(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(sa[k].shape == sb[k].shape for k in sa)


def sums(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(
        sa[k].shape == sb[k].shape and bool(sa[k].sum() == sb[k].sum()) for k in sa
    )


def first_tensor_only(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    first = next(iter(sa))
    return sa.keys() == sb.keys() and torch.equal(sa[first], sb[first])


def borrowed(a, b):
    from reproml_course.checks.ch06_randomness import _identical

    return _identical(a, b)


WEIGHT_MISTAKES = {
    "parameters only": (parameters_only, "batch norm's running statistics"),
    "torch.allclose": (same_weights("torch.equal(a[k], b[k])", "torch.allclose(a[k], b[k])"),
                       "differs in the last bit"),
    "the values in order": (values_in_order, "other names"),
    "the values in order, counted": (same_count_in_order, "other names"),
    "keys and shapes only": (shapes_only, "differs in one element"),
    "a sum per tensor": (sums, "same_weights says"),
    "the first tensor only": (first_tensor_only, "differs in one element"),
    "the architectures": (lambda a, b: repr(a) == repr(b), "differs in one element"),
    "the same object": (lambda a, b: a is b, "its exact copy are different"),
    "a tensor, not a bool": (
        lambda a, b: torch.tensor(same_weights()(a, b)), "not True or False"),
    "the checks' comparison": (borrowed, "the course's own"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", WEIGHT_MISTAKES)
def test_a_wrong_comparison_fails_6_1(evaluate, mistake):
    wrong, message = WEIGHT_MISTAKES[mistake]
    passed, said = evaluate("6.1", wrong)
    assert not passed and message in said, said


def test_6_1_leaves_the_global_random_state_alone(evaluate):
    state = torch.get_rng_state()
    evaluate("6.1", same_weights())
    assert torch.equal(torch.get_rng_state(), state)


DIFFERENCES = code_cell("06_reproducibility_audit.ipynb", "def run_differences")
TRAIN_SMALL = code_cell("06_reproducibility_audit.ipynb", "def train_small")


def differences(*changes: tuple[str, str]):
    code = DIFFERENCES
    for old, new in changes:
        code = mutate(code, old, new)
    code = code[: code.index("client = mlflow.MlflowClient()")]
    return defined_with_source(code, "run_differences")


def defined_with_source(code: str, name: str, namespace: dict | None = None):
    """``define``, its source readable as a notebook cell's is (inspect.getsource)."""
    import linecache

    filename = f"<answer-{name}-{abs(hash(code))}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = dict(namespace or {})
    exec(compile(code, filename, "exec"), namespace)
    return namespace[name]


def test_the_solution_passes_6_2(evaluate):
    assert evaluate("6.2", differences()) == (True, "passed")


ALL = "return {**params, **tags, **inputs}"
NOT_MLFLOW = 'if not k.startswith("mlflow.") and k != "model_uri"'
UNION = "sorted(a.keys() | b.keys())"
PAIR = "(a.get(k), b.get(k))"
BY_NAME = 'f"inputs.{i.dataset.name}": i.dataset.digest for i in run.inputs.dataset_inputs}'
COURSE_TAGS = ("git_commit", "git_dirty", "uv_lock_sha256", "python", "torch", "torchvision",
               "reproml", "platform", "device", "data_digest")  # fmt: skip
DIFFERENCE_MISTAKES = {
    "parameters only": ([(ALL, "return params")], "your answer misses the difference"),
    "no data sets": ([(ALL, "return {**params, **tags}")], "your answer misses the difference"),
    "MLflow's tags too": ([(NOT_MLFLOW, 'if k != "model_uri"')], "MLflow's own tags"),
    "MLflow's run name only left out": (
        [(NOT_MLFLOW, 'if k not in ("mlflow.runName", "model_uri")')], "MLflow's own tags"),
    "the model's address too": ([(NOT_MLFLOW, 'if not k.startswith("mlflow.")')],
                                "`model_uri`"),
    "keys of run A only": ([(UNION, "sorted(a)")], "your answer misses the difference"),
    "keys of run B only": ([(UNION, "sorted(b)")], "your answer misses the difference"),
    "keys both have only": ([(UNION, "sorted(a.keys() & b.keys())")],
                            "your answer misses the difference"),
    "the metrics too": ([(ALL, "return {**params, **tags, **inputs, "
                               "**{f'metrics.{k}': v for k, v in run.data.metrics.items()}}")],
                        "lists metrics"),
    "the values swapped": ([(PAIR, "(b.get(k), a.get(k))")], "the values you report are not"),
    "empty strings for a missing side": ([(PAIR, "(a.get(k, ''), b.get(k, ''))")],
                                         "the values you report are not"),
    "inputs by position": (
        [(BY_NAME, 'f"inputs.{n}": i.dataset.digest '
                   "for n, i in enumerate(run.inputs.dataset_inputs)}")],
        "misses the difference"),
    "inputs by context": (
        [(BY_NAME, 'f"inputs.{i.tags[0].value}": i.dataset.digest '
                   "for i in run.inputs.dataset_inputs}")], "misses the difference"),
    "the training set only": (
        [(BY_NAME, BY_NAME[:-1] + ' if "training" in i.dataset.name}')], "misses the difference"),
    "the course's tags only": ([(NOT_MLFLOW, f"if k in {COURSE_TAGS!r}")],
                               "misses the difference"),
    "the first difference only": (
        [("return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) "
          "if a.get(k) != b.get(k)}",
          "found = {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) "
          "if a.get(k) != b.get(k)}\n    return dict(list(found.items())[:1])")],
        "misses the difference"),
    "the course's audit borrowed": (
        [("    def recorded(run) -> dict:\n",
          "    from reproml_course.chapters.audit.rerun import PROVENANCE_TAGS  # noqa: F401\n\n"
          "    def recorded(run) -> dict:\n")], "the course's own `reproml_course.chapters.audit`"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", DIFFERENCE_MISTAKES)
def test_a_wrong_comparison_fails_6_2(evaluate, mistake):
    changes, message = DIFFERENCE_MISTAKES[mistake]
    passed, said = evaluate("6.2", differences(*changes))
    assert not passed and message in said, said


def train_small(*changes: tuple[str, str]):
    code = TRAIN_SMALL
    for old, new in changes:
        code = mutate(code, old, new)
    code = code[: code.index("same_weights(train_small")]
    import torch.nn.functional as F

    return defined_with_source(code, "train_small", {"torch": torch, "random": random, "F": F})


def test_the_solution_passes_6_3(evaluate):
    assert evaluate("6.3", train_small()) == (True, "passed")


def test_a_torch_generator_for_the_order_passes_6_3(evaluate):
    """randperm from a torch.Generator of its own, indexing with a tensor: right too."""
    fixed = train_small(
        ("order = list(range(len(images)))", "order_maker = torch.Generator().manual_seed(seed)"),
        ("            shuffler.shuffle(order)\n",
         "            order = torch.randperm(len(images), generator=order_maker)\n"),
    )  # fmt: skip
    assert evaluate("6.3", fixed) == (True, "passed")


FORK = "    shuffler = random.Random(seed)\n    with torch.random.fork_rng(devices=[]):"
SHUFFLE = "            shuffler.shuffle(order)\n"
EPOCHS = "        for _ in range(epochs):\n"
TRAINING_MISTAKES = {
    "the global generators seeded": (
        [(FORK, "    random.seed(seed)\n    shuffler = random\n    if True:")],
        "changed torch's global random state"),
    "Python's global generator seeded": (
        [("    shuffler = random.Random(seed)\n",
          "    random.seed(seed)\n    shuffler = random\n")],
        "changed Python's global random state"),
    "the shuffle left unseeded": ([("random.Random(seed)", "random.Random()")],
                                  "gave different weights"),
    "torch left unseeded": ([("        torch.manual_seed(seed)\n", "")], "gave different weights"),
    "torch seeded around the weights only": (
        [("        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n",
          "    if True:\n        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n")],
        "changed torch's global random state"),
    "a fixed seed everywhere": ([("random.Random(seed)", "random.Random(0)"),
                                 ("torch.manual_seed(seed)", "torch.manual_seed(0)")],
                                "gave the same weights"),
    "a fixed seed for torch": ([("torch.manual_seed(seed)", "torch.manual_seed(0)")],
                               "start from the same initial weights"),
    "a fixed seed for the shuffle": ([("random.Random(seed)", "random.Random(0)")],
                                     "feed the images in the same order"),
    "the shuffle dropped": ([(SHUFFLE, "")], "the shuffle is gone"),
    "shuffled once for all epochs": ([(SHUFFLE, ""), (EPOCHS, "        shuffler.shuffle(order)\n"
                                      + EPOCHS)], "each epoch should see a new order"),
    "the dropout dropped": ([("F.dropout(images[batch].flatten(1), p=0.2)",
                              "images[batch].flatten(1)")],
                            # Without the dropout's scaling, some drawn sets do not train.
                            ("no longer drops", "no longer learns")),
    "seed 0 taken for no seed": ([("random.Random(seed)", "random.Random(seed or None)")],
                                 "seed 0 gave different weights"),
    "the shuffle's global generator": ([("shuffler.shuffle(order)", "random.shuffle(order)")],
                                       "changed Python's global random state"),
    "no learning at all": ([("optimizer.step()", "pass")], "no longer learns"),
    "the course's batch-order generator": (
        [("order = list(range(len(images)))",
          "from reproml.training import batch_order_generator\n"
          "        order_maker = batch_order_generator(seed)"),
         (SHUFFLE, "            order = torch.randperm(len(images), generator=order_maker)\n")],
        "the course's own `reproml.training.batch_order_generator`"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", TRAINING_MISTAKES)
def test_a_wrong_fix_fails_6_3(evaluate, mistake):
    changes, messages = TRAINING_MISTAKES[mistake]
    passed, said = evaluate("6.3", train_small(*changes))
    messages = (messages,) if isinstance(messages, str) else messages
    assert not passed and any(message in said for message in messages), said


def with_a_data_loader(images, labels, seed, epochs=3, batch_size=32):
    """A DataLoader shuffling with a generator of its own, torch seeded inside fork_rng."""
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    order = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Linear(28 * 28, 10)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        data = TensorDataset(images, labels)
        loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=order)
        for _ in range(epochs):
            for x, y in loader:
                loss = F.cross_entropy(model(F.dropout(x.flatten(1), p=0.2)), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return model


def with_one_generator(images, labels, seed, epochs=3, batch_size=32):
    """Every draw from one torch.Generator: the weights, the order, a dropout of its own."""
    import torch.nn.functional as F

    draws = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        model = torch.nn.Linear(28 * 28, 10)
    with torch.no_grad():
        model.weight.copy_((torch.rand(10, 784, generator=draws) * 2 - 1) / 28)
        model.bias.copy_((torch.rand(10, generator=draws) * 2 - 1) / 28)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=draws)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            x = images[batch].flatten(1)
            x = x * (torch.rand(x.shape, generator=draws) >= 0.2) / 0.8
            loss = F.cross_entropy(model(x), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


@pytest.mark.parametrize("right", [with_a_data_loader, with_one_generator])
def test_other_right_fixes_pass_6_3(evaluate, right):
    assert evaluate("6.3", right) == (True, "passed")
