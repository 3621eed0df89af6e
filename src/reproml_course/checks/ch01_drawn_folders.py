"""The result folders exercise 1.2's check draws: files written by more than one script,
each folder with one trap ("exponent", "leading dot", "lines") where a shortcut reads another
run as the best, and what each shortcut would pick (the best test accuracy, the lowest, the
first, last, oldest or newest file, each misreading). A folder is kept only when the right
answer differs from every shortcut it must catch, and those shortcuts from each other."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from reproml_course.checks.ch01_txt import _random_run

METRIC = "val_accuracy"


@dataclass
class _Result:
    """One result file, before it is written: its name, its lines, its time."""

    name: str
    lines: list[tuple[str, str]]  # (metric, value as written)
    when: datetime

    def value(self, metric: str = METRIC) -> float:
        return float(dict(self.lines)[metric])

    def text(self, metric: str = METRIC) -> str:
        return dict(self.lines)[metric]


def _repr(v: float) -> str:
    return repr(v)


def _dotted(v: float) -> str:
    return f"{v:.4f}".lstrip("0")  # .9512


def _exponent(v: float) -> str:
    return f"{v:.3e}"  # 9.512e-01


def _draw_folder(rng: random.Random, kind: str, start: datetime) -> list[_Result]:
    """A folder's results (not yet written) with the trap of ``kind``."""
    formats = {
        "lines": [_repr, _repr, _dotted, _exponent],
        "leading dot": [_repr, _repr, _dotted],
        "exponent": [_repr, _repr, _dotted, _exponent],
    }[kind]
    from reproml.tracking.txt import result_file_name

    results, when = [], start
    for i in range(rng.randint(12, 16)):
        params, metrics = _random_run(rng)
        if i % 3 == 0:
            params["batch"] = rng.choice([32, 64, 128])  # a parameter added later
        if i == 1 or rng.random() < 0.25:
            params["model"] = "cnn_small"  # a value with the separator in it
        when += timedelta(hours=rng.randint(1, 48), seconds=rng.randint(0, 59))
        write = rng.choice(formats)
        lines = [(name, write(float(value))) for name, value in metrics.items()]
        if kind == "lines" and rng.random() < 0.8:  # another script, another order
            first = lines.pop(0)
            rng.shuffle(lines)
            lines.insert(rng.randrange(1, len(lines) + 1), first)
            if rng.random() < 0.6:  # never first: the first line is another shortcut's trap
                top5 = ("val_accuracy_top5", repr(rng.uniform(0.95, 1.0)))
                lines.insert(rng.randrange(1, len(lines) + 1), top5)
        results.append(_Result(result_file_name(params, when), lines, when))
    return results


def _shortcuts(results: list[_Result]) -> dict[str, _Result]:
    """What each shortcut would return for these results."""

    def first_line(r: _Result) -> float:
        return float(r.lines[0][1])

    def prefix(r: _Result) -> float:
        return float(next(v for k, v in r.lines if k.startswith(METRIC)))

    def mantissa(r: _Result) -> float:
        return float(r.text().split("e")[0])

    with_digit = [r for r in results if not r.text().startswith(".")]
    picks: dict[str, Callable[[], _Result]] = {
        "test": lambda: max(results, key=lambda r: r.value("test_accuracy")),
        "lowest": lambda: min(results, key=lambda r: r.value()),
        "text": lambda: max(results, key=lambda r: r.text()),
        "exponent": lambda: max(results, key=mantissa),
        "digit first": lambda: max(with_digit, key=lambda r: r.value()),
        "first line": lambda: max(results, key=first_line),
        "prefix": lambda: max(results, key=prefix),
        "first": lambda: min(results, key=lambda r: r.name),
        "last": lambda: max(results, key=lambda r: r.name),
        "oldest": lambda: min(results, key=lambda r: r.when),
        "newest": lambda: max(results, key=lambda r: r.when),
    }
    return {name: pick() for name, pick in picks.items() if name != "digit first" or with_digit}


# Shortcuts that may agree, because they misread the same value the same way: as text and
# without its exponent, 9.2e-01 looks larger than 0.95; as text or skipped, .95 loses to 0.9.
SAME_MISREADING = ({"text", "exponent"}, {"text", "digit first"})
# The shortcuts each kind of folder is drawn to catch, besides the ones every folder catches.
CAUGHT = {
    "lines": {"first line", "prefix"},
    "leading dot": {"text", "digit first"},
    "exponent": {"text", "exponent"},
}
CAUGHT_EVERYWHERE = {"test", "lowest", "first", "last", "oldest", "newest"}


def _fits(results: list[_Result], kind: str) -> bool:
    """The trap of ``kind`` is there, the right answer differs from every shortcut it must
    catch, and the shortcuts that are wrong here differ from each other."""
    values = sorted((r.value() for r in results), reverse=True)
    if values[0] - values[1] < 1e-3:
        return False  # no near tie: the best must be clear
    best = max(results, key=lambda r: r.value())
    texts = [r.text() for r in results]
    trap = {
        "lines": any(r.lines[0][0] != METRIC for r in results),
        "leading dot": best.text().startswith(".") and not any("e" in t for t in texts),
        "exponent": "e" not in best.text() and any("e" in t for t in texts),
    }[kind]
    picks = {name: pick for name, pick in _shortcuts(results).items() if pick is not best}
    if not trap or (CAUGHT[kind] | CAUGHT_EVERYWHERE) - picks.keys():
        return False
    together: dict[int, set[str]] = {}
    for name, pick in picks.items():
        together.setdefault(id(pick), set()).add(name)
    return all(
        len(names) == 1 or any(names <= same for same in SAME_MISREADING)
        for names in together.values()
    )
