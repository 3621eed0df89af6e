"""The one training loop. Every way of running the course (a plain call, argparse, Hydra,
papermill) ends here, so results differ only by configuration, never by code path.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn
from tqdm.auto import tqdm

from reproml.augment import Augmentation, augmentation
from reproml.base.threads import training_threads
from reproml.config import validate_config
from reproml.data import FashionMNISTData, load_data
from reproml.loop import Callback, EpochLoop, EpochRecord, predict
from reproml.metrics import accuracy, confusion_matrix, macro_f1
from reproml.models import NUM_CLASSES, count_parameters
from reproml.parts import build_part
from reproml.runtime import place_model, seed_everything, select_device
from reproml.schema import option_name

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    metrics: dict[str, float]  # val_accuracy (choose on it), test_accuracy, test_macro_f1
    history: list[EpochRecord]
    confusion_matrix: torch.Tensor  # (10, 10): row = true class, column = predicted class
    model: nn.Module
    config: DictConfig  # resolved, with the data root that was actually read
    device: str
    data_digest: str = ""  # FashionMNISTData.digest of the splits used
    data_sizes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # training and evaluation time, data loading excluded
    confusion_split: str = "test"  # what confusion_matrix counts: "validation" when not tested


@dataclass(frozen=True)
class RunSetup:
    """What one run needs, checked and resolved once: the tracker and the loop both read it."""

    config: DictConfig  # validated and resolved; data.root is the folder that was read
    data: FashionMNISTData
    device: torch.device
    make_model: Callable[[], nn.Module]  # called after seeding, which sets the first weights
    make_optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
    make_schedule: Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler]
    augment: Augmentation | None
    threads: int  # CPU threads for the whole run (reproml.base.threads): part of what it computes


def batch_order_generator(seed: int) -> torch.Generator:
    """The batch order's own generator: no other code's draws can shift it (chapter 06)."""
    return torch.Generator().manual_seed(seed)


def prepare_run(config: DictConfig, data: FashionMNISTData | None = None) -> RunSetup:
    """Check the model, optimizer, schedule and augmentation, resolve the device, read the data.

    ``config`` has been through ``validate_config`` (the entry point does it, once). The parts
    are ``instantiate``d as partials, checked now, before the data is read, and built in ``fit``
    (the model after seeding). No ``scheduler`` group (an app's own ``conf/``): cosine.
    """
    make_model = build_part(config.model, "model", _partial_=True)
    make_optimizer = build_part(config.optimizer, "optimizer")
    scheduler = config.get("scheduler") or {"_target_": "reproml.schedules.cosine"}
    make_schedule = build_part(scheduler, "scheduler", _partial_=True)
    augment = augmentation(OmegaConf.to_container(config.augment) if "augment" in config else None)
    device = select_device(config.trainer.device)
    if data is None:
        data = load_data(config.data)  # its split has its own generator: no global RNG is used
    config.data.root = str(data.root)
    threads = training_threads(config.trainer.get("threads"))
    return RunSetup(
        config, data, device, make_model, make_optimizer, make_schedule, augment, threads
    )


def train(
    config: DictConfig | Mapping[str, Any],
    *,
    data: FashionMNISTData | None = None,
    callbacks: Sequence[Callback] = (),
) -> TrainingResult:
    """Train and test the configured model; ``data`` skips loading when it is already in memory.
    An unusable configuration or data raises ConfigError or DataError before any training."""
    return fit(prepare_run(validate_config(config), data), callbacks)


def fit(setup: RunSetup, callbacks: Sequence[Callback] = ()) -> TrainingResult:
    """Train and test as ``setup`` says: the loop every way of running ends in."""
    cfg, data, device = setup.config, setup.data, setup.device
    trainer = cfg.trainer
    torch.set_num_threads(setup.threads)
    seed_everything(cfg.seed, deterministic=trainer.deterministic)
    model = place_model(setup.make_model(), device)
    optimizer = setup.make_optimizer(model.parameters())
    steps_per_epoch = math.ceil(len(data.train) / trainer.batch_size)
    schedule = setup.make_schedule(optimizer, trainer.epochs * steps_per_epoch)
    model_name, optimizer_name = (option_name(g, cfg[g]) for g in ("model", "optimizer"))
    log.info(
        "Training %s (%s parameters) with %s on %s (%d threads): %s train / %s val / %s test "
        "images from %s", model_name, f"{count_parameters(model):,}", optimizer_name, device,
        setup.threads, *(f"{n:,}" for n in data.sizes().values()), data.root,
    )  # fmt: skip

    started = time.perf_counter()
    train_split, val_split, test_split = (s.to(device) for s in (data.train, data.val, data.test))
    history: list[EpochRecord] = []
    # One bar for the whole run, gone when it ends: the log has a line per epoch, and a
    # notebook that trains 24 models would otherwise keep 24 x 15 finished bars on screen.
    total = trainer.epochs * len(train_split)
    bar = tqdm(total=total, unit="img", disable=not trainer.progress, leave=False)
    loop = EpochLoop(
        model=model,
        optimizer=optimizer,
        schedule=schedule,
        train_split=train_split,
        val_split=val_split,
        config=cfg,
        shuffle=batch_order_generator(cfg.seed),
        augment=setup.augment,
        callbacks=callbacks,
        bar=bar,
    )
    with bar:
        for epoch in range(1, trainer.epochs + 1):
            bar.set_description(f"{model_name} epoch {epoch}/{trainer.epochs}")
            record = loop.run(epoch)
            history.append(record)
            log.info(
                "epoch %d/%d train_loss=%.4f train_accuracy=%.4f val_accuracy=%.4f (%.1fs)",
                epoch, trainer.epochs, record.train_loss, record.train_accuracy,
                record.val_accuracy, record.seconds,
            )  # fmt: skip
            for callback in callbacks:
                callback.on_epoch_end(record)

    # What a run is chosen on (the last epoch's: the model that is tested); the test metrics
    # are for the report of the chosen run, once, and not computed at all with data.test=false
    # (a competition's runs: the leaderboard tests the one submitted).
    metrics = {"val_accuracy": history[-1].val_accuracy if history else math.nan}
    tested = cfg.data.get("test", True)
    judged = test_split if tested else val_split
    predictions = predict(model, judged, trainer.eval_batch_size)
    matrix = confusion_matrix(predictions, judged.labels, NUM_CLASSES)
    if tested:
        metrics["test_accuracy"] = accuracy(predictions, test_split.labels)
        metrics["test_macro_f1"] = macro_f1(matrix)
    seconds = time.perf_counter() - started
    log.info("Trained%s in %.1fs on %s", " and tested" if tested else "", seconds, device)
    # Returned ready for inference, as whoever uses it next expects: in evaluation mode
    # (mlflow.pytorch.log_model exports the model in the mode it is in, dropout included)
    # and in PyTorch's default layout (exporting warns about channels-last weights).
    model = model.to(memory_format=torch.contiguous_format).eval()
    return TrainingResult(
        metrics=metrics,
        history=history,
        confusion_matrix=matrix,
        model=model,
        config=cfg,
        device=str(device),
        data_digest=data.digest,
        data_sizes=data.sizes(),
        seconds=seconds,
        confusion_split="test" if tested else "validation",
    )
