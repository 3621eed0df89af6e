"""``reproml-argparse``: chapter 02's command-line script, written the way argparse makes you.

    uv run reproml-argparse --model mlp --optimizer sgd --lr 0.05 --epochs 3
    uv run reproml-argparse --help

Every default sits in this file and every option is a flag of one flat namespace: ``--momentum``
exists even when ``--optimizer adam`` is chosen, ``--lr`` has one default for every optimizer,
and which flag belongs to which optimizer is code you maintain by hand (``OPTIMIZER_FLAGS``).
The result goes to a ``.txt`` file, as in chapter 01. Chapter 03 replaces all of this with
Hydra; the training itself is the same function.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from reproml.base.errors import ReproMLError

MODELS = ("logreg", "mlp", "cnn")
OPTIMIZERS = ("sgd", "adam", "adamw")
OPTIMIZER_FLAGS = {  # which optimizer each optimizer flag applies to, kept in sync by hand
    "momentum": ("sgd",),
    "beta1": ("adam", "adamw"),
    "beta2": ("adam", "adamw"),
}
QUICK = {"train_size": 500, "test_size": 500, "epochs": 1}  # the same as experiment=quick


def _number(kind: Callable[[str], Any], check: Callable[[Any], bool], rule: str):
    """An argparse type: converts, then checks; argparse turns the error into a usage line."""

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    convert.__name__ = kind.__name__
    return convert


positive_float = _number(float, lambda v: v > 0, "> 0")
fraction = _number(float, lambda v: 0 <= v < 1, "in [0, 1)")
non_negative_float = _number(float, lambda v: v >= 0, ">= 0")
positive_int = _number(int, lambda v: v >= 1, ">= 1")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default unless it is None or False (which say nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False:
            return action.help or ""
        return super()._get_help_string(action) or ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reproml-argparse",
        usage="%(prog)s [options]   (see --help)",  # one line above each usage error
        description="Train a model on Fashion-MNIST and write its result to a .txt file.",
        epilog="Example: reproml-argparse --model mlp --optimizer sgd --lr 0.05 --epochs 3",
        formatter_class=_HelpFormatter,
    )
    model = parser.add_argument_group("model")
    model.add_argument("--model", choices=MODELS, default="cnn", help="architecture")
    sizes = {"type": positive_int, "nargs": "+", "metavar": "N"}  # a list: --channels 32 64
    model.add_argument("--hidden-sizes", **sizes, default=[256, 128], help="mlp: layer widths")
    model.add_argument("--channels", **sizes, default=[32, 64], help="cnn: channels of each block")
    model.add_argument("--dropout", type=fraction, default=0.25, help="mlp and cnn: dropout")

    optimizer = parser.add_argument_group("optimizer")
    optimizer.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="algorithm")
    optimizer.add_argument("--lr", type=positive_float, default=0.001, help="learning rate")
    optimizer.add_argument(
        "--weight-decay", type=non_negative_float, default=0.0, help="L2 penalty"
    )
    optimizer.add_argument("--momentum", type=fraction, default=None, help="sgd only (default: 0)")
    optimizer.add_argument(
        "--beta1", type=fraction, default=None, help="adam and adamw only (default: 0.9)"
    )
    optimizer.add_argument(
        "--beta2", type=fraction, default=None, help="adam and adamw only (default: 0.999)"
    )

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, default=3, help="passes over the data")
    training.add_argument("--batch-size", type=positive_int, default=64, help="images per step")
    training.add_argument(
        "--label-smoothing", type=fraction, default=0.1, help="share of each target spread out"
    )
    training.add_argument(
        "--no-hflip", action="store_true", help="do not mirror training images (mirrored: 1 in 2)"
    )
    training.add_argument("--seed", type=int, default=42, help="random seed")
    training.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    training.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    data = parser.add_argument_group("data")
    data.add_argument(
        "--data-root",
        default=None,
        help="folder holding FashionMNIST/raw/; default: $REPROML_DATA_DIR, else data/",
    )
    data.add_argument("--quick", action="store_true", help="quick mode: 500 images and one epoch")

    output = parser.add_argument_group("output")
    output.add_argument("--results-dir", default="results", help="where the .txt files go")
    return parser


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The nested configuration the training code expects, built by hand from the flat flags."""
    from reproml.schema import course_target

    model: dict[str, Any] = {"_target_": course_target("model", args.model)}
    if args.model == "mlp":
        model |= {"hidden_sizes": args.hidden_sizes, "dropout": args.dropout}
    elif args.model == "cnn":
        model |= {"channels": args.channels, "dropout": args.dropout}

    optimizer: dict[str, Any] = {
        "_target_": course_target("optimizer", args.optimizer),
        "_partial_": True,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
    }
    if args.momentum is not None:
        optimizer["momentum"] = args.momentum
    if args.beta1 is not None or args.beta2 is not None:
        optimizer["betas"] = [args.beta1 or 0.9, args.beta2 or 0.999]

    quick = QUICK if args.quick else {}
    return {
        "seed": args.seed,
        "data": {
            "root": args.data_root,
            "download": True,
            "val_fraction": 0.1,
            "split_seed": 0,
            "train_size": quick.get("train_size"),
            "test_size": quick.get("test_size"),
        },
        "model": model,
        "optimizer": optimizer,
        "trainer": {
            "epochs": quick.get("epochs", args.epochs),
            "batch_size": args.batch_size,
            "label_smoothing": args.label_smoothing,
            "eval_batch_size": 1024,
            "device": args.device,
            "deterministic": True,
            "progress": not args.no_progress,
        },
        "scheduler": {"_target_": course_target("scheduler", "cosine"), "_partial_": True},
        "augment": {"hflip": not args.no_hflip, "shift": 0},
        "tracking": {
            "_target_": course_target("tracking", "txt"),
            "folder": args.results_dir,
            "params": {
                "model": "model.name",
                "optimizer": "optimizer.name",
                "lr": "optimizer.lr",
                "epochs": "trainer.epochs",
                "seed": "seed",
            },
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run with ``argv`` (a notebook passes an explicit list; None reads ``sys.argv``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for flag, optimizers in OPTIMIZER_FLAGS.items():
        if getattr(args, flag) is not None and args.optimizer not in optimizers:
            parser.error(f"--{flag} applies to {' and '.join(optimizers)}, not {args.optimizer}")

    # Imported after parsing: --help and usage errors should not wait for torch.
    from reproml.experiment import run_experiment
    from reproml.metrics import format_metrics

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the per-epoch lines

    try:
        result = run_experiment(config_from_args(args))
    except ReproMLError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"Saved: {result.saved_to}")
    print(format_metrics(result.metrics))
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
