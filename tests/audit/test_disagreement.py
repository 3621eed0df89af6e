"""Chapter 06's planted disagreements: each cause leaves the trace the chapter says it does
(real training on synthetic files, a real MLflow store)."""

from __future__ import annotations

import mlflow
import pytest

from reproml.data import raw_folder
from reproml_course.chapters.audit import plant_disagreement, reveal_cause
from reproml_course.chapters.notebook import setup_course

pytestmark = pytest.mark.slow


def recorded(run) -> dict:
    tags = {
        f"tags.{k}": v
        for k, v in run.data.tags.items()
        if not k.startswith("mlflow.") and k != "model_uri"
    }
    inputs = {f"inputs.{i.dataset.name}": i.dataset.digest for i in run.inputs.dataset_inputs}
    return {**{f"params.{k}": v for k, v in run.data.params.items()}, **tags, **inputs}


@pytest.mark.parametrize("cause", ["config", "data", "code"])
def test_each_cause_leaves_its_trace(cause, synthetic, tmp_path, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(synthetic.root))
    setup = setup_course(quick=True)
    labels = raw_folder(synthetic.root) / "train-labels-idx1-ubyte"
    original = labels.read_bytes()
    run_a, run_b = plant_disagreement(setup, tmp_path, "audit", cause=cause)
    client = mlflow.MlflowClient()
    a, b = client.get_run(run_a), client.get_run(run_b)
    assert a.data.metrics != b.data.metrics  # they disagree
    ra, rb = recorded(a), recorded(b)
    differs = sorted(k for k in ra.keys() | rb.keys() if ra.get(k) != rb.get(k))
    expected = {
        "config": [k for k in differs if k.startswith("params.")],
        "data": ["inputs.fashion-mnist-training", "tags.data_digest"],
        "code": [],
    }[cause]
    assert differs == expected and (cause != "config" or len(differs) == 1)
    assert "changed" in reveal_cause(run_b) or "unseeded" in reveal_cause(run_b)
    assert labels.read_bytes() == original  # the course's own data is never changed
