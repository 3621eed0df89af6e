"""Training throughput: reproml's loop against a bare loop on pre-made batches.

    uv run python benchmarks/train_throughput.py [--models cnn mlp logreg] [--images 10000]

(b) ``loop``: ``reproml.training.train`` (shuffling, batching from uint8 tensors, normalising,
    LR schedule, running metrics, progress bar off), images per second of its training epochs.
(c) ``bare``: forward, backward and step on batches normalised in advance: what the model and
    batch size cost with no pipeline at all, the limit the loop can approach.

Images are random uint8 tensors (speed does not depend on their content), so the benchmark needs
no data files. The two loops run in alternating rounds, each round after a warm-up epoch, and
each rate is the median over all timed epochs: on a shared 2-core machine a single measurement
drifts by 20% from one minute to the next, and whichever loop runs first pays the warm-up.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
import torch.nn.functional as F

from reproml.config import load_config
from reproml.data import FashionMNISTData, Split, normalize
from reproml.models import build_model
from reproml.optimizers import build_optimizer
from reproml.runtime import seed_everything, select_device
from reproml.training import Callback, EpochRecord, train


def random_data(n_images: int) -> FashionMNISTData:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n_images, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (n_images,), generator=generator)
    empty = Split(images[:0], labels[:0])
    return FashionMNISTData(train=Split(images, labels), val=empty, test=empty, root=None)


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
    model = build_model(dict(cfg.model)).to(device)
    optimizer = build_optimizer(dict(cfg.optimizer), model.parameters())
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
    print(f"| {'model':<7}| {'loop img/s':>11} | {'bare img/s':>11} | {'loop/bare':>9} |")
    print(f"|{'-' * 8}|{'-' * 13}|{'-' * 13}|{'-' * 11}|")
    for model in args.models:
        loop_all, bare_all = [], []
        for _ in range(args.rounds):
            loop_all += loop_rates(model, data, args.epochs, args.overrides)
            bare_all += bare_rates(model, data, args.epochs, args.overrides)
        loop, bare = statistics.median(loop_all), statistics.median(bare_all)
        print(f"| {model:<7}| {loop:>11,.0f} | {bare:>11,.0f} | {loop / bare:>9.2f} |", flush=True)


if __name__ == "__main__":
    main()
