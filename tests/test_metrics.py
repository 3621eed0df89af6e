from __future__ import annotations

import re

import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score

from reproml.metrics import accuracy, confusion_matrix, format_metrics, macro_f1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn(seed):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (300,), generator=generator)
    predictions = torch.where(
        torch.rand(300, generator=generator) < 0.6,
        labels,
        torch.randint(0, 10, (300,), generator=generator),
    )
    matrix = confusion_matrix(predictions, labels, 10)
    assert matrix.tolist() == sk_confusion_matrix(labels, predictions, labels=range(10)).tolist()
    assert macro_f1(matrix) == pytest.approx(f1_score(labels, predictions, average="macro"))
    assert accuracy(predictions, labels) == pytest.approx(
        (predictions == labels).double().mean().item()
    )


def test_macro_f1_skips_classes_absent_from_labels_and_predictions():
    labels = torch.tensor([0, 0, 1, 1, 2])
    predictions = torch.tensor([0, 1, 1, 1, 0])
    matrix = confusion_matrix(predictions, labels, 10)
    assert macro_f1(matrix) == pytest.approx(
        f1_score(labels, predictions, average="macro", zero_division=0)
    )


def test_format_metrics_is_one_parseable_line():
    line = format_metrics({"test_accuracy": 0.90123, "test_macro_f1": 0.8987})
    assert line == "test_accuracy=0.9012 test_macro_f1=0.8987"
    assert re.fullmatch(r"(\w+=\d\.\d{4} ?)+", line)
