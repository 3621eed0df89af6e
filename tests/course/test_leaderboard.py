"""The verified leaderboard on a local store: an honest run ranked, claims flagged."""

import mlflow
import pytest
from mlflow import MlflowClient

from reproml.course.leaderboard import format_leaderboard, leaderboard, plot_leaderboard
from reproml.experiment import run_experiment


@pytest.fixture
def competition(make_config, mlflow_uri):
    """One honest run in competition/red, and two claims in competition/green."""
    honest = run_experiment(make_config(["tracking=mlflow", "tracking.experiment=competition/red"]))
    client = MlflowClient(mlflow_uri)
    green = client.create_experiment("competition/green")
    original = client.get_run(honest.run_id)
    inflated = client.create_run(green, run_name="inflated")
    client.log_metric(inflated.info.run_id, "test_accuracy", 1.0)
    for tag in ("model_uri", "data_digest"):
        client.set_tag(inflated.info.run_id, tag, original.data.tags[tag])
    config = mlflow.artifacts.load_text(f"runs:/{honest.run_id}/config.yaml")
    client.log_text(inflated.info.run_id, config, "config.yaml")
    client.set_terminated(inflated.info.run_id)
    claim = client.create_run(green, run_name="no-model")
    client.log_metric(claim.info.run_id, "test_accuracy", 0.99)
    client.set_terminated(claim.info.run_id)
    outside = client.create_run(client.create_experiment("practice"), run_name="elsewhere")
    client.log_metric(outside.info.run_id, "test_accuracy", 0.5)
    client.set_terminated(outside.info.run_id)
    return honest


def test_honest_runs_are_ranked_and_claims_flagged(competition, mlflow_uri, synthetic):
    entries = leaderboard(mlflow_uri, data_root=str(synthetic.root))
    assert [e.run_name for e in entries][1:] == ["inflated", "no-model"]  # not "elsewhere"
    first = entries[0]
    assert first.ranked and first.team == "red" and first.run_id == competition.run_id
    assert first.verified == competition.metrics["test_accuracy"] == first.logged
    flagged = {e.run_name: e.problem for e in entries[1:]}
    assert flagged["inflated"] == f"logged 1.0000, re-evaluated {first.verified:.4f}"
    assert flagged["no-model"] == "no logged model: cannot verify"
    table = format_leaderboard(entries).splitlines()
    assert table[2].startswith("  1  red") and table[2].endswith("verified")
    assert all(" -  green" in line and "FLAGGED" in line for line in table[3:])
    assert len(plot_leaderboard(entries).axes[0].patches) == 3


def test_other_data_is_flagged(competition, mlflow_uri, tmp_path):
    from synthetic_data import write_fashion_mnist

    other = write_fashion_mnist(tmp_path / "other", n_test=123)
    entries = leaderboard(mlflow_uri, data_root=str(other.root))
    assert entries[0].problem == "trained on other data (digest differs)"


def test_an_empty_competition(mlflow_uri):
    assert format_leaderboard(leaderboard(mlflow_uri)) == (
        "No finished run with a test_accuracy in the competition yet."
    )
