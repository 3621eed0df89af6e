"""reproml's figures: what they show, and their words in the language a course gives them."""

from functools import partial

import pytest
import torch

from reproml import plots
from reproml.loop import EpochRecord
from reproml_course.base import messages

HISTORY = [EpochRecord(e, 1.0 / e, 0.5 + e / 10, 0.4 + e / 10, 0.1, 1.0) for e in (1, 2, 3)]


@pytest.fixture(autouse=True)
def english_again():
    yield
    plots.use_figure_language(None)


def texts(figure) -> list[str]:
    found = []
    for ax in figure.axes:
        found += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        found += [t.get_text() for t in legend.get_texts()] if legend else []
    return [t for t in found if t]


def test_the_figures_speak_english_by_default():
    assert texts(plots.plot_learning_curves(HISTORY)) == [
        "Training loss", "epoch", "cross-entropy", "Accuracy", "epoch", "accuracy", "train",
        "validation",
    ]  # fmt: skip
    matrix = torch.eye(10, dtype=torch.int64) * 3
    assert "Confusion matrix (test)" in texts(plots.plot_confusion_matrix(matrix))


def test_a_course_in_french_gets_french_figures_and_keeps_its_words_to_them(monkeypatch):
    """The course's own catalog (``msgctxt figure``): "train" on a legend is "entraînement",
    while a check's value "train" stays a value."""
    monkeypatch.setenv(messages.LANGUAGE_ENV, "fr")
    plots.use_figure_language(partial(messages.say_in_context, messages.FIGURE_CONTEXT))
    shown = texts(plots.plot_learning_curves(HISTORY))
    assert shown[:3] == ["Perte d'entraînement", "époque", "entropie croisée"]
    assert shown[-2:] == ["entraînement", "validation"]
    assert messages.translate("train", "fr") == "train"
    monkeypatch.setenv(messages.LANGUAGE_ENV, "en")
    assert texts(plots.plot_learning_curves(HISTORY))[0] == "Training loss"


def test_a_number_of_images_is_grouped_the_language_s_way(monkeypatch):
    split = type("Split", (), {"labels": torch.arange(10).repeat(1234), "__len__": lambda s: 12340})
    monkeypatch.setenv(messages.LANGUAGE_ENV, "fr")
    plots.use_figure_language(partial(messages.say_in_context, messages.FIGURE_CONTEXT))
    title = plots.plot_class_balance(split()).axes[0].get_title()
    assert title == "Répartition des classes (12\u202f340 images)"
    plots.use_figure_language(None)
    assert plots.plot_class_balance(split()).axes[0].get_title() == "Class balance (12,340 images)"


def test_epochs_are_whole_numbers_even_for_one_epoch():
    figure = plots.plot_learning_curves(HISTORY[:1])
    figure.canvas.draw()
    ticks = [t for t in figure.axes[0].get_xticks() if 0 < t < 2]
    assert ticks == [1.0]
