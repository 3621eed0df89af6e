"""Figures a person would rather look at than read: samples, class balance, curves, confusions.

Every function returns a matplotlib Figure, so a notebook shows it and MLflow logs it
(``mlflow.log_figure``) without saving anything by hand. Figures are made without pyplot, which
would keep every one of them open: a sweep of a hundred runs would hold a hundred figures.
Their titles and labels are English unless ``use_figure_language`` is given a translator (the
course gives its own, so a French notebook's figures speak French).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from reproml.data import CLASSES, Split

_say: Callable[..., str] | None = None


def use_figure_language(say: Callable[..., str] | None) -> None:
    """Write the figures' texts with ``say(english, **fields)``; ``None``: in English."""
    global _say
    _say = say


def _text(english: str, **fields: str) -> str:
    return _say(english, **fields) if _say is not None else english.format(**fields)


def plot_sample_grid(split: Split, per_class: int = 8) -> Figure:
    """The first ``per_class`` images of each class, one row per class."""
    fig = Figure(figsize=(per_class * 0.9, len(CLASSES) * 0.9), layout="constrained")
    axes = fig.subplots(len(CLASSES), per_class, squeeze=False)
    for label, row in enumerate(axes):
        images = split.images[split.labels == label][:per_class]
        for column, ax in enumerate(row):
            ax.set_axis_off()
            if column < len(images):
                ax.imshow(images[column].cpu(), cmap="gray_r")
        row[0].set_title(CLASSES[label], fontsize=8, loc="left")
    return fig


def plot_class_balance(split: Split) -> Figure:
    """How many images of each class the split holds."""
    counts = torch.bincount(split.labels.cpu(), minlength=len(CLASSES))
    fig = Figure(figsize=(7, 3), layout="constrained")
    ax = fig.subplots()
    ax.bar(range(len(CLASSES)), counts.tolist(), color="tab:blue")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=30, ha="right")
    ax.set_ylabel(_text("images"))
    ax.set_title(_text("Class balance ({images} images)", images=f"{len(split):,}"))
    return fig


def plot_learning_curves(history: Sequence) -> Figure:
    """Training loss, and training and validation accuracy, per epoch."""
    epochs = [r.epoch for r in history]
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [r.train_loss for r in history], marker="o")
    loss_ax.set(xlabel=_text("epoch"), ylabel=_text("cross-entropy"), title=_text("Training loss"))
    accuracy_ax.plot(epochs, [r.train_accuracy for r in history], marker="o", label=_text("train"))
    accuracy_ax.plot(
        epochs, [r.val_accuracy for r in history], marker="o", label=_text("validation")
    )
    accuracy_ax.set(xlabel=_text("epoch"), ylabel=_text("accuracy"), title=_text("Accuracy"))
    accuracy_ax.legend()
    for ax in (loss_ax, accuracy_ax):
        ax.grid(alpha=0.3)
        # whole epochs only (matplotlib's own ticks for one epoch: 0.96, 0.98, 1.00...)
        ax.xaxis.set_major_locator(
            FixedLocator(epochs) if len(epochs) <= 12 else MaxNLocator(integer=True)
        )
    return fig


def plot_confusion_matrix(
    matrix: torch.Tensor, normalize: bool = True, split: str = "test"
) -> Figure:
    """Rows: true class; columns: predicted class. Normalised per row: recall on the diagonal."""
    values = matrix.double().cpu()
    if normalize:
        values = values / values.sum(dim=1, keepdim=True).clamp(min=1)
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ticks = range(len(CLASSES))
    ax.set_xticks(ticks, CLASSES, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, CLASSES, fontsize=8)
    split_name = {"test": _text("test"), "validation": _text("validation")}.get(split, split)
    ax.set(
        xlabel=_text("predicted"),
        ylabel=_text("true"),
        title=_text("Confusion matrix ({split})", split=split_name),
    )
    threshold = float(values.max()) / 2
    for i in ticks:
        for j in ticks:
            text = f"{values[i, j]:.2f}" if normalize else f"{int(values[i, j])}"
            color = "white" if values[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=color)
    return fig
