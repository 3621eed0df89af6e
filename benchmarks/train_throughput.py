"""Training throughput: the tutorial pipeline, reproml's loop and a bare loop on pre-made batches.

    uv run python benchmarks/train_throughput.py [--models cnn mlp logreg] [--images 10000]

(a) ``tutorial``: what most PyTorch tutorials write: ``torchvision.datasets.FashionMNIST`` with
    ``ToTensor`` and ``Normalize``, a shuffling ``DataLoader``, ``loss.item()`` every batch.
(b) ``loop``: ``reproml.training.train`` (shuffling, batching from uint8 tensors, normalising,
    LR schedule, running metrics, progress bar off), images per second of its training epochs.
(c) ``bare``: forward, backward and step on batches normalised in advance: what the model and
    batch size cost with no pipeline at all, the limit the loop can approach.

Images are random uint8 tensors (speed does not depend on their content), written as IDX files
in a temporary folder for the tutorial pipeline, so the benchmark needs no data. The three
loops run in alternating rounds, each round after a warm-up epoch, and each rate is the median
over all timed epochs: on a shared 2-core machine a single measurement drifts by 20% from one
minute to the next, and whichever loop runs first pays the warm-up.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from reproml.config import load_config
from reproml.data import MEAN, STD, FashionMNISTData, Split, normalize, raw_folder
from reproml.parts import build_part
from reproml.runtime import place_model, seed_everything, select_device
from reproml.training import Callback, EpochRecord, train


def random_data(n_images: int) -> FashionMNISTData:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n_images, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (n_images,), generator=generator)
    empty = Split(images[:0], labels[:0])
    return FashionMNISTData(train=Split(images, labels), val=empty, test=empty, root=None)


def write_idx_files(data: FashionMNISTData, root: Path) -> Path:
    """The training images as torchvision's raw IDX files (the test files are empty)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from synthetic_data import write_idx

    raw = raw_folder(root)
    raw.mkdir(parents=True)
    split = data.train
    write_idx(raw / "train-images-idx3-ubyte", split.images.numpy())
    write_idx(raw / "train-labels-idx1-ubyte", split.labels.numpy())
    write_idx(raw / "t10k-images-idx3-ubyte", split.images[:0].numpy())
    write_idx(raw / "t10k-labels-idx1-ubyte", split.labels[:0].numpy())
    return root


def tutorial_rates(model_name: str, root: Path, epochs: int, overrides: list[str]) -> list[float]:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    cfg = load_config([f"model={model_name}", *overrides])
    seed_everything(cfg.seed, cfg.trainer.deterministic)
    device = select_device(cfg.trainer.device)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    dataset = datasets.FashionMNIST(root, train=True, transform=transform, download=False)
    loader = DataLoader(dataset, batch_size=cfg.trainer.batch_size, shuffle=True)
    model = build_part(cfg.model, "model").to(device)
    optimizer = build_part(cfg.optimizer, "optimizer")(model.parameters())
    rates = []
    for _ in range(epochs + 1):
        started = time.perf_counter()
        model.train()
        running_loss = 0.0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        rates.append(len(dataset) / (time.perf_counter() - started))
    return rates[1:]


class EpochTimes(Callback):
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_end(self, record: EpochRecord) -> None:
        self.seconds.append(record.seconds)


def loop_rates(
    model: str, data: FashionMNISTData, epochs: int, overrides: list[str]
) -> list[float]:
    cfg = load_config([f"model={model}", f"trainer.epochs={epochs + 1}", "trainer.progress=false",
                       "data.val_fraction=0", *overrides])  # fmt: skip
    times = EpochTimes()
    train(cfg, data=data, callbacks=[times])
    return [len(data.train) / seconds for seconds in times.seconds[1:]]


def bare_rates(
    model_name: str, data: FashionMNISTData, epochs: int, overrides: list[str]
) -> list[float]:
    cfg = load_config([f"model={model_name}", *overrides])
    seed_everything(cfg.seed, cfg.trainer.deterministic)
    device = select_device(cfg.trainer.device)
    model = place_model(build_part(cfg.model, "model"), device)  # the loop's layout
    optimizer = build_part(cfg.optimizer, "optimizer")(model.parameters())
    batch_size = cfg.trainer.batch_size
    inputs, labels = normalize(data.train.images).to(device), data.train.labels.to(device)
    batches = [
        (inputs[i : i + batch_size], labels[i : i + batch_size])
        for i in range(0, len(labels), batch_size)
    ]
    rates = []
    for _ in range(epochs + 1):
        started = time.perf_counter()
        for x, y in batches:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(len(labels) / (time.perf_counter() - started))
    return rates[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "mlp", "logreg"])
    parser.add_argument("--images", type=int, default=5_000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each loop")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer.device=cuda")
    args = parser.parse_args()

    data = random_data(args.images)
    cfg = load_config(args.overrides)
    device = select_device(cfg.trainer.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name or platform.machine()}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, batch size {cfg.trainer.batch_size}, "
          f"{args.images:,} images, {args.rounds} rounds x {args.epochs} epochs")  # fmt: skip
    print("| model  | (a) tutorial img/s | (b) loop img/s | (c) bare img/s | b/a  | b/c  |")
    print("|--------|--------------------|----------------|----------------|------|------|")
    with tempfile.TemporaryDirectory() as tmp:
        root = write_idx_files(data, Path(tmp))
        for model in args.models:
            runs: dict[str, list[float]] = {"a": [], "b": [], "c": []}
            for _ in range(args.rounds):
                runs["a"] += tutorial_rates(model, root, args.epochs, args.overrides)
                runs["b"] += loop_rates(model, data, args.epochs, args.overrides)
                runs["c"] += bare_rates(model, data, args.epochs, args.overrides)
            a, b, c = (statistics.median(rates) for rates in runs.values())
            print(f"| {model:<7}| {a:>18,.0f} | {b:>14,.0f} | {c:>14,.0f} | "
                  f"{b / a:.2f} | {b / c:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
