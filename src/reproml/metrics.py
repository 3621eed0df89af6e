"""Classification metrics computed from predictions, with no dependency beyond torch."""

from __future__ import annotations

import torch


def confusion_matrix(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    flat = labels.long() * num_classes + predictions.long()
    return torch.bincount(flat.cpu(), minlength=num_classes**2).reshape(num_classes, num_classes)


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    return (predictions == labels).float().mean().item() if len(labels) else float("nan")


def macro_f1(matrix: torch.Tensor) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in labels or predictions.

    Classes absent from both are left out, as scikit-learn's ``f1_score(average="macro")`` does.
    """
    true_positives = matrix.diagonal().double()
    false_positives = matrix.sum(dim=0).double() - true_positives
    false_negatives = matrix.sum(dim=1).double() - true_positives
    denominator = 2 * true_positives + false_positives + false_negatives
    present = denominator > 0
    if not present.any():
        return float("nan")
    return (2 * true_positives[present] / denominator[present]).mean().item()


def format_metrics(metrics: dict[str, float]) -> str:
    """``val_accuracy=0.9050 test_accuracy=0.9012 test_macro_f1=0.8987``: the line every entry
    point prints last."""
    return " ".join(f"{name}={value:.4f}" for name, value in metrics.items())
