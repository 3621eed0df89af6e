"""The default CNN's recipe: test accuracy against training time, for each variant tried.

    REPROML_DATA_DIR=../shared/data uv run python benchmarks/cnn_frontier.py [--seeds 1 2 3]
        [--out outputs/cnn_frontier.jsonl] [--figure benchmarks/cnn_frontier.png]

Every variant is a list of overrides of the whole recipe (epochs, batch size, label smoothing,
augmentation, optimizer, model) and trains with ``reproml.training.train`` on the data read
once, for each seed; a row is the mean test accuracy over the seeds and the mean training
time (``TrainingResult.seconds``: training and evaluation, data loading excluded). Rows are
appended to ``--out`` as they come, so a long run can be stopped and resumed; the table and the
figure are made from everything in that file.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections import defaultdict
from pathlib import Path

import torch

from reproml.config import load_config
from reproml.data import load_data
from reproml.training import train

OLD = ["trainer.epochs=15", "trainer.batch_size=64", "trainer.label_smoothing=0", "augment=none"]
FLIP = ["augment=hflip"]
SHIPPED = "40 epochs, batch 32, label smoothing 0.1, flips (the default)"
VARIANTS: dict[str, list[str]] = {
    "15 epochs, batch 64 (the previous default)": OLD,
    "15 epochs, flips and 2-pixel shifts": [*OLD, "augment.hflip=true", "augment.shift=2"],
    "15 epochs, flips and 1-pixel shifts": [*OLD, "augment.hflip=true", "augment.shift=1"],
    "25 epochs, flips and 2-pixel shifts": [*OLD[1:], "trainer.epochs=25", "augment.hflip=true",
                                            "augment.shift=2"],
    "20 epochs, flips": [*OLD[1:], *FLIP, "trainer.epochs=20"],
    "30 epochs, flips": [*OLD[1:], *FLIP, "trainer.epochs=30"],
    "40 epochs, flips": [*OLD[1:], *FLIP, "trainer.epochs=40"],
    "30 epochs, flips, label smoothing 0.1": [*OLD[1:3], *FLIP, "trainer.epochs=30",
                                              "trainer.label_smoothing=0.1"],
    "30 epochs, flips, dropout 0.4": [*OLD[1:], *FLIP, "trainer.epochs=30", "model.dropout=0.4"],
    "20 epochs, flips, channels 64-128": [*OLD[1:], *FLIP, "trainer.epochs=20",
                                          "model.channels=[64,128]"],
    "30 epochs, flips, channels 32-64-128": [*OLD[1:], *FLIP, "trainer.epochs=30",
                                             "model.channels=[32,64,128]"],
    "30 epochs, flips, lr 0.002": [*OLD[1:], *FLIP, "trainer.epochs=30", "optimizer.lr=0.002"],
    "30 epochs, flips, AdamW 0.05": [*OLD[1:], *FLIP, "trainer.epochs=30", "optimizer=adamw",
                                     "optimizer.weight_decay=0.05"],
    "30 epochs, flips, batch 32": [*OLD[2:], *FLIP, "trainer.epochs=30", "trainer.batch_size=32"],
    "30 epochs, batch 32, label smoothing 0.1, flips": ["trainer.epochs=30"],
    SHIPPED: [],
}  # fmt: skip


def measure(seeds: list[int], out: Path, only: list[str] | None) -> None:
    data = load_data(load_config().data)
    done = {(row["variant"], row["seed"]) for row in read_rows(out)}
    with out.open("a") as file:
        for name, overrides in VARIANTS.items():
            if only and name not in only:
                continue
            for seed in seeds:
                if (name, seed) in done:
                    continue
                config = load_config([*overrides, f"seed={seed}", "trainer.progress=false",
                                      "tracking=none"])  # fmt: skip
                result = train(config, data=data)
                row = {"variant": name, "seed": seed, "seconds": result.seconds,
                       "test_accuracy": result.metrics["test_accuracy"],
                       "val_accuracy": result.metrics["val_accuracy"]}  # fmt: skip
                file.write(json.dumps(row) + "\n")
                file.flush()
                print(f"{name}, seed {seed}: {row['test_accuracy']:.4f} in {result.seconds:.1f} s")


def read_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def summary(out: Path) -> list[tuple[str, float, float, int, float]]:
    """(variant, mean test accuracy, mean seconds, seeds, mean validation accuracy), fastest
    first."""
    rows = defaultdict(list)
    for row in read_rows(out):
        rows[row["variant"]].append(row)
    table = [
        (name, sum(r["test_accuracy"] for r in rs) / len(rs),
         sum(r["seconds"] for r in rs) / len(rs), len(rs),
         sum(r["val_accuracy"] for r in rs) / len(rs))
        for name, rs in rows.items()
    ]  # fmt: skip
    return sorted(table, key=lambda row: row[2])


def plot(table: list[tuple[str, float, float, int, float]], figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, accuracy, seconds, *_ in table:
        shipped = name == SHIPPED
        ax.scatter(seconds, 100 * accuracy, s=60 if shipped else 25,
                   color="tab:red" if shipped else "tab:blue", zorder=3)  # fmt: skip
        ax.annotate(name, (seconds, 100 * accuracy), fontsize=6.5, xytext=(4, 3),
                    textcoords="offset points")  # fmt: skip
    ax.axhline(87, color="grey", lw=0.8, ls="--")
    ax.axvline(30, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("training time (s, 2 CPU threads)")
    ax.set_ylabel("test accuracy (%, mean of seeds)")
    ax.set_title("The default CNN on the course's Fashion-MNIST subset")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(figure, dpi=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=Path("outputs/cnn_frontier.jsonl"))
    parser.add_argument("--figure", type=Path, default=Path("benchmarks/cnn_frontier.png"))
    parser.add_argument("--only", nargs="+", help="variant names to measure")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    measure(args.seeds, args.out, args.only)
    table = summary(args.out)
    print(f"\n{platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| variant | validation accuracy | test accuracy | training s | seeds |")
    print("|---------|---------------------|---------------|------------|-------|")
    for name, accuracy, seconds, seeds, validation in table:
        print(f"| {name} | {100 * validation:.2f}% | {100 * accuracy:.2f}% | {seconds:.1f} "
              f"| {seeds} |")  # fmt: skip
    plot(table, args.figure)


if __name__ == "__main__":
    main()
