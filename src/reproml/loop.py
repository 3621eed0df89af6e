"""An epoch of training, and predictions: the steps ``training.fit`` repeats."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn
from tqdm.auto import tqdm

from reproml.augment import Augmentation
from reproml.data import Split
from reproml.metrics import accuracy


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # mean cross-entropy over the epoch's batches, dropout on
    train_accuracy: float
    val_accuracy: float  # nan when there is no validation split
    learning_rate: float  # what the epoch's last step used (not the 0 a cosine ends on)
    seconds: float


class Callback:
    """Hooks into the loop (logging, early stopping...). Override what you need."""

    def on_batch_end(self, epoch: int, batch: int, loss: torch.Tensor) -> None:
        """After each optimizer step. ``loss`` stays on the device: call .item() only if needed."""

    def on_epoch_end(self, record: EpochRecord) -> None:
        """After each epoch's validation."""


@dataclass
class EpochLoop:
    """What every epoch of one run uses; ``run(epoch)`` trains one epoch and validates."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    train_split: Split
    val_split: Split
    config: DictConfig
    shuffle: torch.Generator  # the batch order's own generator
    augment: Augmentation | None
    callbacks: Sequence[Callback]
    bar: tqdm

    def run(self, epoch: int) -> EpochRecord:
        model, schedule, optimizer = self.model, self.schedule, self.optimizer
        train_split, trainer = self.train_split, self.config.trainer
        started = time.perf_counter()
        model.train()
        # Running sums stay on the device: reading them every batch would stall a GPU.
        loss_sum = torch.zeros((), device=train_split.labels.device)
        correct = torch.zeros((), dtype=torch.long, device=train_split.labels.device)
        learning_rate = schedule.get_last_lr()[0]  # the rate this epoch's last step used
        label_smoothing = trainer.get("label_smoothing", 0.0)
        batches = train_split.batches(trainer.batch_size, self.shuffle, self.augment)
        for batch, (inputs, labels) in enumerate(batches):
            logits = model(inputs)  # (batch, 10)
            loss = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            learning_rate = schedule.get_last_lr()[0]
            optimizer.step()
            schedule.step()
            loss_sum += loss.detach() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum()
            self.bar.update(len(labels))
            for callback in self.callbacks:
                callback.on_batch_end(epoch, batch, loss)
        predictions = predict(model, self.val_split, trainer.eval_batch_size)
        record = EpochRecord(
            epoch=epoch,
            train_loss=loss_sum.item() / len(train_split),
            train_accuracy=correct.item() / len(train_split),
            val_accuracy=accuracy(predictions, self.val_split.labels),
            learning_rate=learning_rate,
            seconds=time.perf_counter() - started,
        )
        self.bar.set_postfix(
            loss=f"{record.train_loss:.3f}",
            acc=f"{record.train_accuracy:.3f}",
            val_acc=f"{record.val_accuracy:.3f}",
        )
        return record


def predict(model: nn.Module, split: Split, batch_size: int = 1024) -> torch.Tensor:
    """Predicted classes for a whole split, in evaluation mode and without gradients."""
    was_training = model.training
    _set_training_mode(model, False)
    with torch.inference_mode():
        predictions = [model(inputs).argmax(dim=1) for inputs, _ in split.batches(batch_size)]
    _set_training_mode(model, was_training)
    if not predictions:
        return torch.empty(0, dtype=torch.long, device=split.labels.device)
    return torch.cat(predictions)


def _set_training_mode(model: nn.Module, training: bool) -> None:
    # A model reloaded from MLflow's pt2 format refuses: it was exported in eval mode for good.
    with contextlib.suppress(NotImplementedError):
        model.train(training)
