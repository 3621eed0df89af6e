"""The checks in the student's language: which language, and a failure's English rebuilt from
the translations of the pieces it is made of (reproml_course.base.messages)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from reproml_course.base import messages
from reproml_course.base.message_sites import all_sites
from reproml_course.checks.base import EXERCISES, CheckFailed, call, exercise
from reproml_course.checks.ch04_logged_run import _check_params


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """A French catalog of our own: ``write({english: french})``."""

    def write(entries: dict[str, str]) -> None:
        folder = tmp_path / "fr"
        folder.mkdir(exist_ok=True)
        (folder / messages.CATALOG).write_text(json.dumps(entries), encoding="utf-8")
        messages._catalog.cache_clear()
        messages.available_languages.cache_clear()

    monkeypatch.setattr(messages, "LOCALE_DIR", tmp_path)
    monkeypatch.delenv(messages.LANGUAGE_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    write({})
    yield write
    messages._catalog.cache_clear()
    messages.available_languages.cache_clear()


def test_the_variable_then_the_notebook_folder_then_english(catalog, monkeypatch):
    assert messages.language() == "en"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/reproml/notebooks/fr/03_hydra.ipynb")
    assert messages.language() == "fr"
    monkeypatch.setenv(messages.LANGUAGE_ENV, "en")  # the variable wins over the folder
    assert messages.language() == "en"
    monkeypatch.setenv(messages.LANGUAGE_ENV, "fr_CA.UTF-8")
    assert messages.language() == "fr"
    monkeypatch.setenv(messages.LANGUAGE_ENV, "de")  # not translated: English
    assert messages.language() == "en"
    monkeypatch.delenv(messages.LANGUAGE_ENV)
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/reproml/notebooks/03_hydra.ipynb")
    assert messages.language() == "en"


def test_a_message_made_of_pieces_is_rebuilt_from_their_translations(catalog):
    """ch04's parameters message: a fixed start, two optional parts joined by "; ", a dot."""
    catalog(
        {
            "the run's parameters are not the configuration that ran: ": "PARAMÈTRES : ",
            "missing {0}": "il manque {0}",
            "{0}={1} but the configuration says {2}": "{0} vaut {1} au lieu de {2}",
        }
    )
    run = SimpleNamespace(data=SimpleNamespace(params={"model.name": "mlp", "seed": "1"}))
    expected = {"model.name": "cnn", "seed": 1, "optimizer.lr": 0.1}
    with pytest.raises(CheckFailed) as failure:
        _check_params(run, expected, {})
    english = failure.value.problem
    assert english == (
        "the run's parameters are not the configuration that ran: missing optimizer.lr; "
        "model.name='mlp' but the configuration says 'cnn'."
    )
    assert messages.translate(english, "fr") == (
        "PARAMÈTRES : il manque optimizer.lr; model.name vaut 'mlp' au lieu de 'cnn'."
    )
    assert messages.translate(english, "en") == english
    # a piece without a translation stays English, the others are still translated
    catalog({"missing {0}": "il manque {0}"})
    assert messages.translate(english, "fr") == english.replace(
        "missing optimizer.lr", "il manque optimizer.lr"
    )


def test_the_check_line_hint_and_fields_inside_the_frame_are_translated(catalog, monkeypatch):
    catalog(
        {
            "❌ Exercise {exercise}: {message}": "❌ Exercice {exercise} : {message}",
            "{problem} Hint: {hint}": "{problem} Indice : {hint}",
            "{0} is not written yet (it raises NotImplementedError).": (
                "{0} n'est pas encore écrite (elle lève NotImplementedError)."
            ),
            "replace the `raise NotImplementedError(...)` line with your code, run that cell, "
            "then this one.": "remplacez la ligne `raise NotImplementedError(...)`.",
            "the value {0}": "la valeur {0}",
        }
    )

    @exercise("99.7", "a stub")
    def exercise_99_7(function):
        call(function, what="the value x")

    check = EXERCISES.pop("99.7")

    def stub():
        raise NotImplementedError

    monkeypatch.setenv(messages.LANGUAGE_ENV, "fr")
    line = check.evaluate(stub).line()
    # "the value {0}" is no piece of any check: the field stays as it was given
    assert line == (
        "❌ Exercice 99.7 : the value x n'est pas encore écrite (elle lève "
        "NotImplementedError). Indice : remplacez la ligne `raise NotImplementedError(...)`."
    )
    monkeypatch.setenv(messages.LANGUAGE_ENV, "en")
    assert check.evaluate(stub).line().startswith("❌ Exercise 99.7: the value x is not written")


def test_of_two_choices_the_fixed_text_is_tried_before_a_value(catalog):
    """ch05: ``f"{found}." if ... else "nothing of what it tried."``: the first option
    matches any text ending with a dot, so the fixed one must be tried first."""
    catalog(
        {
            "{0} failed and its parameters say ": "{0} a échoué et ses paramètres disent ",
            "nothing of what it tried.": "rien de ce qu'elle a essayé.",
        }
    )
    english = "run 3 failed and its parameters say nothing of what it tried."
    assert messages.translate(english, "fr") == (
        "run 3 a échoué et ses paramètres disent rien de ce qu'elle a essayé."
    )
    english = "run 3 failed and its parameters say {'x': None, 'label': 'a'}."
    assert messages.translate(english, "fr") == (
        "run 3 a échoué et ses paramètres disent {'x': None, 'label': 'a'}."
    )


def test_a_value_is_never_taken_for_a_text(catalog):
    """A field's value that happens to be no text of the checks comes out as it went in, and a
    message no check writes (the student's own exception) is left alone."""
    catalog({"{0} raised {1}: {2}": "{0} a levé {1} : {2}"})
    english = "f(x) raised ValueError: the value is missing"
    assert messages.translate(english, "fr") == ("f(x) a levé ValueError : the value is missing")
    assert messages.translate("something no check says", "fr") == "something no check says"


def _sample(node, values: list[str], pieces: list) -> str:
    """The English a site writes, its first choice at each alternative, each field a value;
    ``pieces`` gets the pieces it went through."""
    if node.kind == "wild":
        values.append(f"<{len(values)}>")
        return values[-1]
    if node.kind == "piece":
        pieces.append(node.piece)
        filled = [_sample(child, values, pieces) for child in node.children]
        return messages.fill_fields(node.piece.msgid, {str(i): v for i, v in enumerate(filled)})
    if node.kind == "alt":
        return _sample(node.children[0], values, pieces)
    return "".join(_sample(child, values, pieces) for child in node.children)


def test_every_text_of_the_real_french_catalog_is_reached_from_its_english():
    """Each site, written out with placeholder values, translates: no piece's English words are
    left in the French, unless its translation keeps them (code, a name)."""
    french = messages._catalog("fr")
    left = []
    for site in all_sites():
        pieces: list = []
        translated = messages.translate(_sample(site.root, [], pieces), "fr")
        for piece in pieces:
            for run in re.split(r"\{\d+\}", piece.msgid):
                words = run.strip()
                kept = words in french.get(piece.msgid, piece.msgid)  # code, a name
                if len(words.split()) >= 3 and words in translated and not kept:
                    left.append(f"{piece.location}: {words[:60]}")
    assert left == []


def test_labels_a_check_hands_to_a_helper_are_translated_inside_the_message():
    """Texts that reach a message only through a helper's argument or a loop's tuple (ch06's
    ``what``, ch10's ``where`` and ``ordinal``, ch07's run notes) are sites of their own, so a
    field whose value is one of them comes out in French too (the real catalog)."""
    cases = {
        "same_weights says a model and its exact copy are different.": (
            "same_weights les déclare différents\xa0: un modèle et sa copie exacte."
        ),
        "same_weights says a MLP and a copy whose `net.0.weight` differs in one element are "
        "identical.": (
            "same_weights les déclare identiques\xa0: un MLP et une copie dont `net.0.weight` "
            "diffère d'un élément."
        ),
        "in a fresh clone (DVC's cache had only the latest), the data folder is not the second "
        "version (missing: a.bin).": "dans un clone tout neuf (le cache de DVC n'avait que la "
        "dernière), le dossier de données n'est pas la deuxième version (manquants: a.bin).",
    }
    for english, french in cases.items():
        assert messages.translate(english, "fr") == french
    said = messages.translate(
        "submission chose a run that is still RUNNING, over the finished ones: only a finished "
        "run is an entry.",
        "fr",
    )
    assert "toujours à l'état RUNNING" in said and "still" not in said


def test_a_number_with_thousands_is_written_the_french_way():
    english = (
        "when the disk filled up in the middle of the file (1,234,567 bytes, the disk full after "
        "600), write_result left a.txt behind."
    )
    french = messages.translate(english, "fr")
    assert "1\u202f234\u202f567 octets" in french and "600" in french
    assert messages.translate(english, "en") == english


def test_threads_that_translate_at_once_read_the_checks_sources_once(monkeypatch):
    """``grade`` translates from several threads; two ``ast.parse`` at once can fail on CPython
    3.11 (python/cpython#106905), so the first thread reads every check and the others wait."""
    from concurrent.futures import ThreadPoolExecutor

    from reproml_course.base import message_sites

    read = []
    real = message_sites.module_sites

    def counted(path):
        read.append(path)
        return real(path)

    message_sites._read_sites.cache_clear()
    monkeypatch.setattr(message_sites, "module_sites", counted)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: message_sites.all_sites(), range(8)))
    finally:
        message_sites._read_sites.cache_clear()
    assert len(read) == len(message_sites.check_modules())
    assert all(result is results[0] for result in results)
