"""What choosing a run must leave as it was, for exercise 7.1: each run's status, whether
it is deleted, its tags, parameters and metrics, in the whole store or in one experiment,
read before and after the student's ``submission`` runs."""

from __future__ import annotations

from reproml_course.checks.base import expect


def _snapshot(client) -> dict:
    from mlflow.entities import ViewType

    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(experiments, run_view_type=ViewType.ALL, max_results=50_000)
    return {r.info.run_id: _state(r) for r in runs}


def _state(run) -> tuple:
    """What choosing a run must leave as it was: its status, whether deleted, its tags,
    parameters and metrics (a tag such as `submitted=true` is a write too)."""
    data = run.data
    return (
        run.info.status,
        run.info.lifecycle_stage,
        tuple(sorted(data.tags.items())),
        tuple(sorted(data.params.items())),
        tuple(sorted(data.metrics.items())),
    )


def _check_unchanged(client, before: dict) -> None:
    after = _snapshot(client)
    changed = [run for run, state in before.items() if after.get(run) != state]
    expect(
        not changed and after.keys() == before.keys(),
        "submission changed the store: it deleted, ended, created or wrote to runs"
        + (f" ({len(changed)} runs changed)." if changed else "."),
        "choosing a run only reads the store; every run stays as its training left it.",
    )


def _experiment_snapshot(client, experiment_id: str) -> dict:
    from mlflow.entities import ViewType

    runs = client.search_runs([experiment_id], run_view_type=ViewType.ALL, max_results=50_000)
    return {r.info.run_id: _state(r) for r in runs}
