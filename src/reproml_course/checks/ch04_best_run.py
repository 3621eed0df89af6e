"""Chapter 04's check of the choice of the best run on validation (4.2).

One run of the check plants three experiments in a throwaway store and asks for the best run of
each; beside each, an experiment whose name starts the same holds a better run, and the active
experiment is another one than the one asked for (twice out of three):

- "every status": a few finished runs where the test set would choose another one than
  validation, and above them a run of each status that is not FINISHED (FAILED, KILLED,
  RUNNING, SCHEDULED), a finished run that logged nothing, one that logged no val_accuracy;
- "a single finished run": the only finished run with metrics is the worst of its experiment;
- "curves": runs that logged val_accuracy every epoch, some of them falling at the end: a run's
  val_accuracy is its last value (its final model), not its best epoch's; the best run is
  neither the newest nor the oldest.

best_run must return the chosen run's id and its test accuracy, reported once.
"""

from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass, field
from typing import Any

from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.stores import scratch_store

NOT_FINISHED = ("FAILED", "KILLED", "RUNNING", "SCHEDULED")
WHY_NOT = {
    "FAILED": "FAILED: it crashed",
    "KILLED": "KILLED: it was stopped before the end",
    "RUNNING": "still RUNNING: its numbers are not final",
    "SCHEDULED": "SCHEDULED: it has not even started",
}


@dataclass
class _Planted:
    status: str
    val: list[float] = field(default_factory=list)  # per epoch; the run's value is the last
    test: float | None = None

    @property
    def final(self) -> float | None:
        return self.val[-1] if self.val else None


def _finished(val: float, test: float) -> _Planted:
    return _Planted("FINISHED", [val], test)


def _every_status(rng: random.Random) -> list[_Planted]:
    while True:
        runs = [_finished(rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.9)) for _ in range(6)]
        if _shortcuts_differ(runs):
            break
    top = [_Planted(s, [rng.uniform(0.92, 0.99)], rng.uniform(0.92, 0.99)) for s in NOT_FINISHED]
    rng.shuffle(top)
    return [*runs, *top, _Planted("FINISHED"), _Planted("FINISHED", [], 0.97)]


def _single_finished(rng: random.Random) -> list[_Planted]:
    only = _finished(rng.uniform(0.5, 0.6), rng.uniform(0.5, 0.6))
    others = [_Planted(s, [rng.uniform(0.7, 0.95)], rng.uniform(0.7, 0.95)) for s in NOT_FINISHED]
    rng.shuffle(others)
    return [*others[:2], only, *others[2:], _Planted("FINISHED")]


def _curves(rng: random.Random) -> list[_Planted]:
    while True:
        runs = []
        for _ in range(rng.randint(6, 9)):
            curve = [rng.uniform(0.6, 0.9) for _ in range(3)]
            runs.append(_Planted("FINISHED", curve, rng.uniform(0.6, 0.9)))
        if _shortcuts_differ(runs, curves=True):
            return runs


def _shortcuts_differ(runs: list[_Planted], curves: bool = False) -> bool:
    """The best finished run, and what each shortcut would choose, are all different runs."""
    shortcuts = [
        max(runs, key=lambda r: r.test),  # the test set
        min(runs, key=lambda r: r.final),  # the lowest
        runs[0],  # the oldest
        runs[-1],  # the newest
    ]
    if curves:
        shortcuts.append(max(runs, key=lambda r: max(r.val)))  # the best epoch
    chosen = [_best(runs), *shortcuts]
    return len({id(r) for r in chosen}) == len(chosen)


CASES = {
    "every status": _every_status,
    "a single finished run": _single_finished,
    "curves": _curves,
}


def _best(runs: list[_Planted]) -> _Planted:
    return max((r for r in runs if r.status == "FINISHED" and r.val), key=lambda r: r.final)


def _plant(client: Any, experiment_id: str, runs: list[_Planted], start: int) -> dict[str, int]:
    """The runs, created in the order given (a second apart); {run id: index}."""
    from mlflow.entities import Metric, Param

    ids = {}
    for i, planted in enumerate(runs):
        when = start + 1000 * i
        run = client.create_run(experiment_id, start_time=when, run_name=f"run-{i}")
        run_id = run.info.run_id
        metrics = [Metric("val_accuracy", v, when, step) for step, v in enumerate(planted.val, 1)]
        if planted.test is not None:
            metrics.append(Metric("test_accuracy", planted.test, when, 0))
        # As chapter 04's runs: each optimizer has parameters the other lacks (empty cells).
        params = [Param("optimizer.name", "sgd"), Param("optimizer.momentum", "0.9")]
        if i % 2:
            params = [Param("optimizer.name", "adam"), Param("optimizer.betas", "[0.9, 0.999]")]
        client.log_batch(run_id, metrics=metrics, params=params)
        if planted.status == "SCHEDULED":
            client.update_run(run_id, status="SCHEDULED")
        elif planted.status != "RUNNING":
            client.set_terminated(run_id, planted.status, end_time=when + 500)
        ids[run_id] = i
    return ids


@exercise(
    "4.2",
    "the best run on validation, and its test accuracy, reported once",
    points=2,
    budget=60,
)
def exercise_4_2(best_run: Any) -> None:
    """mlflow.search_runs(experiment_names=[...]) returns a pandas table, one row per run, with the
    columns 'run_id', 'status' and 'metrics.<name>'; its filter_string can test
    attributes.status and its order_by takes 'metrics.<name> DESC'; pandas' dropna(subset=...)
    drops runs without a value."""
    import mlflow
    from mlflow import MlflowClient

    rng = random.Random()
    base = f"check-4-2-{rng.randrange(10**6)}"
    with scratch_store(base) as tmp:
        client = MlflowClient()
        start = 1_767_600_000_000  # 2026-01-05, in milliseconds
        elsewhere: dict[str, int] = {}  # the runs of every other experiment
        for number, (what, draw) in enumerate(CASES.items()):
            name = f"{base}-{number}"
            experiment = client.create_experiment(name, artifact_location=str(tmp / name))
            older = client.create_experiment(f"{name}-old", artifact_location=str(tmp / "old"))
            runs = draw(rng)
            ids = _plant(client, experiment, runs, start)
            elsewhere |= _plant(client, older, [_finished(0.995, 0.995)], start)
            # Asked by name: the active experiment is another one, except in one case.
            mlflow.set_experiment(experiment_id=experiment if number == 1 else older)
            found = call(best_run, name, what=f"best_run({name!r})")
            _check_choice(found, runs, ids, elsewhere, what)
            elsewhere |= ids


def _check_choice(found: Any, runs: list[_Planted], ids: dict, elsewhere: dict, what: str) -> None:
    expect(
        isinstance(found, tuple) and len(found) == 2,
        f"best_run should return (run_id, test_accuracy), got {found!r}.",
        "return a pair: the chosen run's id, and its test accuracy.",
    )
    run_id, test = found
    best = _best(runs)
    expect(
        run_id not in elsewhere,
        "best_run chose a run of another experiment than the one named.",
        "search the experiment of that name only (not the active one, nor every experiment, "
        "nor every name that starts the same).",
    )
    expect(
        run_id in ids,
        f"best_run returned {run_id!r} as the run's id, which is no run of that experiment.",
        "return the run's id (its run_id), as MLflow gives it.",
    )
    chosen = runs[ids[run_id]]
    expect(
        chosen.status == "FINISHED",
        f"best_run chose a run that is {WHY_NOT.get(chosen.status, chosen.status)} (checked on "
        f"a new experiment with runs of every status).",
        "only finished runs count: keep the status FINISHED, not just 'not FAILED'.",
    )
    expect(
        chosen.final is not None,
        "best_run chose a finished run that logged no val_accuracy.",
        "leave out the runs without a validation accuracy.",
    )
    finished = [r for r in runs if r.status == "FINISHED" and r.val]
    if chosen is not best:
        expect(
            chosen is not max(finished, key=lambda r: r.test),
            "best_run chose the run with the best *test* accuracy.",
            "choose on validation; the test accuracy is only reported, for the chosen run.",
        )
        expect(
            chosen is not max(finished, key=lambda r: max(r.val)),
            "best_run chose the run whose best epoch had the highest val_accuracy, but that "
            f"run ended at {chosen.final:.4f}, and another one at {best.final:.4f}.",
            "a run's val_accuracy is its last value, the one of the model it ended with.",
        )
        raise CheckFailed(
            f"best_run chose a run with val_accuracy={chosen.final:.4f}, but another finished "
            f"run has {best.final:.4f} (checked on a new experiment: {what}, "
            f"{len(finished)} finished run{'s' if len(finished) > 1 else ''} with metrics).",
            "sort the finished runs by validation accuracy, best first, and take the first.",
        )
    expect(
        isinstance(test, numbers.Real)
        and not isinstance(test, bool)
        and math.isclose(test, chosen.test),
        f"best_run returned {test!r} as the test accuracy of the chosen run, which logged "
        f"{chosen.test:.4f}"
        + (": that is its validation accuracy." if test == chosen.final else "."),
        "report the chosen run's own test accuracy, as a number.",
    )
