"""Test accuracy and training time of each model on real Fashion-MNIST, against scikit-learn.

    uv run python benchmarks/accuracy.py                      # data: $REPROML_DATA_DIR or data/
    REPROML_DATA_DIR=../shared/data uv run python benchmarks/accuracy.py --models cnn

Each model trains with its default configuration (``uv run reproml-train model=<name>``) on the
data ``data.root`` points to, in one process, data read once. The reference is scikit-learn's
LogisticRegression on the raw pixels scaled to [0, 1], trained on the same training split.
*Epochs to 85%* is the smallest ``trainer.epochs`` (tried in the order of ``--ladder``) whose
run ends at 85% test accuracy or more: the learning rate follows a cosine over the whole run,
so a 3-epoch run is not the first 3 epochs of a 15-epoch one.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import torch

from reproml.config import load_config
from reproml.data import FashionMNISTData, load_data
from reproml.training import train

TARGET = 0.85


def reference_accuracy(data: FashionMNISTData) -> tuple[float, float]:
    """scikit-learn's LogisticRegression on raw pixels: (test accuracy, seconds to fit)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    def pixels(images: torch.Tensor):
        return images.reshape(len(images), -1).numpy() / 255.0

    classifier = LogisticRegression(max_iter=1000)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(pixels(data.train.images), data.train.labels.numpy())
    seconds = time.perf_counter() - started
    return classifier.score(pixels(data.test.images), data.test.labels.numpy()), seconds


def epochs_to_target(
    model: str, data: FashionMNISTData, ladder: list[int], known: dict[int, float]
) -> str:
    """``known`` maps epochs to the test accuracy of a run already made (the default one)."""
    for epochs in ladder:
        if epochs not in known:
            overrides = [f"model={model}", f"trainer.epochs={epochs}", "trainer.progress=false"]
            known[epochs] = train(load_config(overrides), data=data).metrics["test_accuracy"]
        if known[epochs] >= TARGET:
            return str(epochs)
    return f"> {ladder[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "mlp", "logreg"])
    parser.add_argument("--ladder", type=int, nargs="+", default=[1, 2, 3, 5, 8, 10, 15],
                        help="trainer.epochs values tried for 'epochs to 85%%'")  # fmt: skip
    args = parser.parse_args()

    base = load_config(["trainer.progress=false"])
    data = load_data(base.data)
    sizes = data.sizes()
    print(f"data: {data.root} ({sizes['train']:,} train, {sizes['val']:,} validation, "
          f"{sizes['test']:,} test images); {platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print("| model | epochs | test accuracy | macro F1 | training s | epochs to 85% |")
    print("|-------|--------|---------------|----------|------------|---------------|")
    for model in args.models:
        cfg = load_config([f"model={model}", "trainer.progress=false"])
        result = train(cfg, data=data)
        m = result.metrics
        to_target = epochs_to_target(
            model, data, args.ladder, known={cfg.trainer.epochs: m["test_accuracy"]}
        )
        print(f"| {model} | {cfg.trainer.epochs} | {m['test_accuracy']:.2%} | "
              f"{m['test_macro_f1']:.4f} | {result.seconds:.1f} | {to_target} |",
              flush=True)  # fmt: skip
    accuracy, seconds = reference_accuracy(data)
    print(f"| scikit-learn LogisticRegression (raw pixels) | - | {accuracy:.2%} | - | "
          f"{seconds:.1f} | - |")  # fmt: skip


if __name__ == "__main__":
    main()
