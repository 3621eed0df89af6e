"""Chapter 02's checks run the student's script: the right one passes, each plausible wrong
one fails with its own message. Slow: every check starts several Python processes."""

from __future__ import annotations

import pytest
from solution_cells import mutate, writefile_cells

pytestmark = pytest.mark.slow

(_, FIRST), (_, SECOND) = writefile_cells("02_argparse.ipynb")


@pytest.fixture
def script(tmp_path, hard_synthetic, monkeypatch):
    """Write a version of the script; the runs read synthetic data that no run learns fully."""
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))

    def write(text: str):
        path = tmp_path / "train_cli.py"
        path.write_text(text)
        return path

    return write


def test_the_solution_passes_both(evaluate, script):
    assert evaluate("2.1", script(FIRST)) == (True, "passed")
    assert evaluate("2.2", script(SECOND)) == (True, "passed")


FIRST_MISTAKES = {
    "lr parsed, then ignored": (
        ('{"name": args.optimizer, "lr": args.lr}', '{"name": args.optimizer, "lr": 0.001}'),
        "did not train what its flags say",
    ),
    "no check of the value": (
        ('"--lr", type=positive(float)', '"--lr", type=float'),
        "`python train_cli.py --lr -0.1` should stop at once",
    ),
    "checked after parsing, by hand": (
        ('"--epochs", type=positive(int)', '"--epochs", type=int'),
        "`python train_cli.py --epochs 0` should stop at once",
    ),
    "momentum given to Adam too": (
        ('    if args.optimizer == "sgd":  # only SGD has a momentum: Adam would refuse it\n'
         '        config["optimizer"]["momentum"] = args.momentum',
         '    config["optimizer"]["momentum"] = args.momentum'),
        "--optimizer adam",
    ),
    "arguments not saved": (
        ('(args.out / "args.json").write_text(json.dumps(vars(args), default=str, indent=2))',
         "pass"),
        "the arguments of the run was not written",
    ),
    "a stub left": (
        ("            value = kind(text)\n",
         "            raise NotImplementedError('write it')\n"),
        "is not written yet",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", FIRST_MISTAKES)
def test_a_wrong_script_fails_2_1(evaluate, script, mistake):
    (old, new), message = FIRST_MISTAKES[mistake]
    passed, said = evaluate("2.1", script(mutate(FIRST, old, new)))
    assert not passed and message in said


SECOND_MISTAKES = {
    "flag parsed, not passed on": (
        ('    config["trainer"]["batch_size"] = args.batch_size\n', ""),
        "did not train what its flags say",
    ),
    "no check of the value": (
        ('"--batch-size", type=positive(int)', '"--batch-size", type=int'),
        "`python train_cli.py --batch-size 0` should stop at once",
    ),
    "flag forgotten": (
        ('    parser.add_argument("--batch-size"', '    # parser.add_argument("--batch-size"'),
        "the script does not know --batch-size",
    ),
    "a default other than the course's": (
        ("type=positive(int), default=32,", "type=positive(int), default=64,"),
        "not the course's default 32",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", SECOND_MISTAKES)
def test_a_wrong_script_fails_2_2(evaluate, script, mistake):
    (old, new), message = SECOND_MISTAKES[mistake]
    passed, said = evaluate("2.2", script(mutate(SECOND, old, new)))
    assert not passed and message in said
