"""Chapter 02's checks run the student's script: the right one passes, each plausible wrong
one fails with its own message. Slow: every check starts several Python processes.

The mistakes students make, each written below as a change to the solution's script:

2.1 (the script)
- a flag parsed and never put into the configuration: --epochs (quick mode already has one
  epoch), --lr, --seed, --model; the configuration's quick mode hard-coded (--quick ignored);
- the model given as `{"name": args.model}` (the course's old form) instead of its option;
- a value the training cannot use let through: no check (`type=float`), `< 0` instead of
  `<= 0` (--lr 0 accepted), epochs left to `int`; or a valid one refused: `<= 1` (lr 0.5,
  1 epoch), cnn missing from the choices, a momentum of 0 refused;
- SGD's momentum given to Adam too;
- the record wrong: arguments not saved, values saved as text, Adam's run saved without its
  momentum, metrics written into the working directory;
- --out not required; its folder made without `parents=True` or `exist_ok=True`;
- a default the training refuses (`--model` defaulting to "MLP", a momentum of None), or
  --quick on by default;
- a flag without a help text; more than argparse's two lines on a bad value;
- the course's own script (reproml_course.cli.argparse_train) used instead of one's own; a stub
  left.

2.2 (--batch-size)
- the flag parsed and not passed on; set only inside the SGD branch (the issue's case: only
  an SGD run ever set it), or only in the other branch;
- no check of the value (`type=int`), or a float; a default other than the course's 32;
- the flag forgotten, or saved under another name (`dest="batch"`); no help text.
"""

from __future__ import annotations

import pytest
from solution_cells import mutate, writefile_cells

pytestmark = pytest.mark.slow

(_, FIRST), (_, SECOND) = writefile_cells("02_argparse.ipynb")


@pytest.fixture
def script(tmp_path, monkeypatch):
    """Write a version of the script (the check runs it on a data set of its own)."""
    monkeypatch.chdir(tmp_path)

    def write(text: str):
        path = tmp_path / "train_cli.py"
        path.write_text(text)
        return path

    return write


def test_the_solution_passes_both(evaluate, script):
    assert evaluate("2.1", script(FIRST)) == (True, "passed")
    assert evaluate("2.2", script(SECOND)) == (True, "passed")


SGD_BRANCH = (
    '    if args.optimizer == "sgd":  # only SGD has a momentum: Adam would refuse it\n'
    '        config["optimizer"]["momentum"] = args.momentum\n'
)
SAVE_ARGS = '(args.out / "args.json").write_text(json.dumps(vars(args), default=str, indent=2))'

FIRST_MISTAKES = {
    "--epochs never put into the config": (
        [('    config["trainer"]["epochs"] = args.epochs\n', "")],
        "did not train what its flags say",
    ),
    "lr parsed, then ignored": (
        [('| {"lr": args.lr}', '| {"lr": 0.001}')],
        "did not train what its flags say",
    ),
    "seed parsed, then ignored": (
        [('    config["seed"] = args.seed\n', "")],
        "did not train what its flags say",
    ),
    "model parsed, then ignored": (
        [('config["model"] = option("model", args.model)', 'model = option("model", args.model)')],
        "did not train what its flags say",
    ),
    "the course's old form, name: instead of the option": (
        [('option("model", args.model)', '{"name": args.model}')],
        "model._target_ is missing (model.name is the course's old form",
    ),
    "--quick ignored": (
        [("    config = default_config(quick=args.quick)",
          "    config = default_config(quick=True)")],
        "did not train what its flags say",
    ),
    "--lr 0 accepted": (
        [("        if value <= 0:", "        if value < 0:")],
        "`python train_cli.py --lr 0` should stop at once",
    ),
    "no check of the learning rate": (
        [('"--lr", type=positive(float)', '"--lr", type=float')],
        "`python train_cli.py --lr 0` should stop at once",
    ),
    "epochs left to int": (
        [('"--epochs", type=positive(int)', '"--epochs", type=int')],
        "`python train_cli.py --epochs 0` should stop at once",
    ),
    "one and below refused": (
        [("        if value <= 0:", "        if value <= 1:")],
        "is refused, but each value is valid",
    ),
    "cnn missing": (
        [('choices=["logreg", "mlp", "cnn"]', 'choices=["logreg", "mlp"]')],
        "is refused, but each value is valid",
    ),
    "a momentum of 0 refused": (
        [('"--momentum", type=float', '"--momentum", type=positive(float)')],
        "is refused, but each value is valid",
    ),
    "momentum given to Adam too": (
        [(SGD_BRANCH, '    config["optimizer"]["momentum"] = args.momentum\n')],
        "--optimizer adam",
    ),
    "momentum never given": (
        [(SGD_BRANCH, "")],
        "did not train what its flags say",
    ),
    "arguments not saved": (
        [(SAVE_ARGS, "pass")],
        "the arguments of the run was not written",
    ),
    "arguments saved as text": (
        [("vars(args), default=str", "{k: str(v) for k, v in vars(args).items()}")],
        "args.json says",
    ),
    "Adam's momentum not saved": (
        [(SAVE_ARGS,
          "saved = vars(args) if args.optimizer == 'sgd' else "
          "{k: v for k, v in vars(args).items() if k != 'momentum'}\n"
          "    (args.out / 'args.json').write_text(json.dumps(saved, default=str))")],
        "momentum='nothing'",
    ),
    "metrics in the working directory": (
        [('(args.out / "metrics.json")', 'Path("metrics.json")')],
        "the metrics of the run was not written",
    ),
    "--out with a default": (
        [("type=Path, required=True,", 'type=Path, default=Path("runs"),')],
        "should stop at once with argparse's usage error",
    ),
    "out folder made without parents": (
        [("args.out.mkdir(parents=True, exist_ok=True)", "args.out.mkdir(exist_ok=True)")],
        "FileNotFoundError",
    ),
    "out folder that exists refused": (
        [("args.out.mkdir(parents=True, exist_ok=True)", "args.out.mkdir(parents=True)")],
        "FileExistsError",
    ),
    "a default model the course cannot build": (
        [('default="mlp", help="architecture"', 'default="MLP", help="architecture"')],
        "which the course's training refuses",
    ),
    "no default momentum": (
        [('type=float, default=0.9, help="SGD only"', 'type=float, help="SGD only"')],
        "which the course's training refuses",
    ),
    "quick mode on by default": (
        [('action="store_true", help="500 images only"',
          'action="store_true", default=True, help="500 images only"')],
        "without --quick",
    ),
    "a flag without help": (
        [(', default=42, help="random seed")', ", default=42)")],
        "--seed with no help text",
    ),
    "a flag missing": (
        [('    parser.add_argument("--seed"', '    # parser.add_argument("--seed"')],
        "--help does not list --seed",
    ),
    "seed kept as text": (
        [('"--seed", type=int,', '"--seed",')],
        "should stop at once",
    ),
    "more than argparse's message": (
        [("        if value <= 0:\n",
          "        if value <= 0:\n"
          "            print('bad value!', file=__import__('sys').stderr)\n")],
        "lines on stderr",
    ),
    "the course's own script": (
        [("import argparse\n",
          "import argparse\nfrom reproml_course.cli.argparse_train import QUICK\n")],
        "course's own `reproml_course.cli.argparse_train`",
    ),
    "a stub left": (
        [("            value = kind(text)\n",
          "            raise NotImplementedError('write it')\n")],
        "is not written yet",
    ),
}  # fmt: skip


def apply(text: str, changes: list[tuple[str, str]]) -> str:
    for old, new in changes:
        text = mutate(text, old, new)
    return text


@pytest.mark.parametrize("mistake", FIRST_MISTAKES)
def test_a_wrong_script_fails_2_1(evaluate, script, mistake):
    changes, message = FIRST_MISTAKES[mistake]
    passed, said = evaluate("2.1", script(apply(FIRST, changes)))
    assert not passed and message in said, said


SECOND_MISTAKES = {
    "flag parsed, not passed on": (
        [('    config["trainer"]["batch_size"] = args.batch_size\n', "")],
        "did not train what its flags say",
    ),
    "batch size set in the SGD branch only": (
        [('    config["trainer"]["batch_size"] = args.batch_size\n', ""),
         ('        config["optimizer"]["momentum"] = args.momentum\n',
          '        config["optimizer"]["momentum"] = args.momentum\n'
          '        config["trainer"]["batch_size"] = args.batch_size\n')],
        "--optimizer adam",
    ),
    "batch size set in the other branch only": (
        [('    config["trainer"]["batch_size"] = args.batch_size\n', ""),
         ('        config["optimizer"]["momentum"] = args.momentum\n',
          '        config["optimizer"]["momentum"] = args.momentum\n'
          '    else:\n'
          '        config["trainer"]["batch_size"] = args.batch_size\n')],
        "--optimizer sgd",
    ),
    "no check of the value": (
        [('"--batch-size", type=positive(int)', '"--batch-size", type=int')],
        "`python train_cli.py --batch-size 0` should stop at once",
    ),
    "a float": (
        [('"--batch-size", type=positive(int)', '"--batch-size", type=positive(float)')],
        "",
    ),
    "flag forgotten": (
        [('    parser.add_argument("--batch-size"', '    # parser.add_argument("--batch-size"')],
        "--help does not list --batch-size",
    ),
    "saved under another name": (
        [('"--batch-size", type=positive(int),', '"--batch-size", dest="batch", '
          "type=positive(int),"),
         ("= args.batch_size", "= args.batch")],
        "has no batch_size",
    ),
    "a default other than the course's": (
        [("type=positive(int), default=64,", "type=positive(int), default=32,")],
        "not the course's default 64",
    ),
    "no help text": (
        [('default=64, help="images per step")', "default=64)")],
        "--batch-size with no help text",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", SECOND_MISTAKES)
def test_a_wrong_script_fails_2_2(evaluate, script, mistake):
    changes, message = SECOND_MISTAKES[mistake]
    passed, said = evaluate("2.2", script(apply(SECOND, changes)))
    assert not passed and message in said, said


CORRECT_VARIANTS = {
    "torch imported before parsing": [
        ("import argparse\n", "import argparse\nimport reproml.training\n")
    ],
    "a lambda type, the momentum merged into the optimizer's options": [
        ('"--momentum", type=float', '"--momentum", type=lambda t: float(t)'),
        (SGD_BRANCH, ""),
        ('| {"lr": args.lr}',
         '| {"lr": args.lr} | ({"momentum": args.momentum} if args.optimizer == "sgd" else {})'),
    ],
    "a ValueError from the type, a resolved out path saved": [
        ('            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")',
         '            raise ValueError(text)'),
        ("json.dumps(vars(args), default=str, indent=2)",
         "json.dumps({**vars(args), 'out': str(args.out.resolve())})"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("variant", CORRECT_VARIANTS)
def test_a_correct_variant_passes_2_2(evaluate, script, variant):
    assert evaluate("2.2", script(apply(SECOND, CORRECT_VARIANTS[variant]))) == (True, "passed")
