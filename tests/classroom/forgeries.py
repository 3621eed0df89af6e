"""Competition runs for the leaderboard's tests: honest ones trained for real, and the forged
ones a student who wants to win, or to do harm, could log (with MLflow's own client)."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

from reproml.config import load_config
from reproml.experiment import run_experiment
from reproml_course.classroom.model_files import MODEL_FILE, WEIGHTS_CONFIG
from reproml_course.classroom.submissions import SUBMITTED_TAG, submit_run


def train(data_root, uri: str, team: str, *overrides: str, submit: bool = True):
    """An honest run of team ``team`` in quick mode, not tested (``data.test=false``), and
    submitted unless told otherwise."""
    config = load_config(
        [
            "experiment=quick", f"data.root={data_root}", "data.download=false",
            "data.test=false", "trainer.device=cpu", "trainer.progress=false",
            "tracking=mlflow", f"tracking.uri={uri}", f"tracking.experiment=competition/{team}",
            *overrides,
        ]
    )  # fmt: skip
    result = run_experiment(config)
    if submit:
        submit_run(result.run_id, uri)
    return result


def model_file(uri: str, run_id: str) -> bytes:
    """The ``model.pt2`` an honest run logged."""
    import mlflow
    from mlflow import MlflowClient

    (model,) = MlflowClient(uri).search_logged_models(
        [MlflowClient(uri).get_run(run_id).info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"{model.artifact_location}/{MODEL_FILE}", dst_path=tmp, tracking_uri=uri
        )
        return Path(path).read_bytes()


def forged_run(
    uri: str,
    team: str,
    files: dict[str, bytes] | None,
    *,
    copy_from: str | None = None,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    tags: dict[str, str] | None = None,
    run_name: str = "forged",
    status: str = "FINISHED",
    submitted: str | None = "2026-01-01T00:00:00.000000Z forged",
) -> str:
    """A run with whatever model folder ``files`` holds (None: no model), the params of run
    ``copy_from``, then ``params``, ``metrics`` and ``tags`` on top, ended ``status`` and
    submitted by hand (the tag ``submitted``, None: not submitted). Returns its id."""
    from mlflow import MlflowClient
    from mlflow.entities import Param

    client = MlflowClient(uri)
    name = f"competition/{team}"
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    run = client.create_run(experiment_id, run_name=run_name)
    run_id = run.info.run_id
    all_params = {}
    if copy_from:
        original = client.get_run(copy_from)
        all_params = dict(original.data.params)
    all_params.update(params or {})
    client.log_batch(run_id, params=[Param(k, v) for k, v in all_params.items()])
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, value)
    for key, value in (tags or {}).items():
        client.set_tag(run_id, key, value)
    if files is not None:
        model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
        with tempfile.TemporaryDirectory() as tmp:
            for path, content in files.items():
                (Path(tmp) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / path).write_bytes(content)
            client.log_model_artifacts(model.model_id, tmp)
        client.finalize_logged_model(model.model_id, "READY")
    if submitted is not None:
        client.set_tag(run_id, SUBMITTED_TAG, submitted)
    if status != "RUNNING":
        client.set_terminated(run_id, status)
    return run_id


def rewrite_archive(pt2: bytes, change) -> bytes:
    """A copy of a pt2 archive with ``change(entries)`` applied to its {name: bytes}."""
    import io

    with zipfile.ZipFile(io.BytesIO(pt2)) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    change(entries)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


class Payload:
    """Unpickling it runs a shell command: the classic malicious pickle."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def pickled_weight(pt2: bytes, marker: Path) -> bytes:
    """The archive with its first weight marked ``use_pickle`` and replaced by a payload, as
    torch.export.load would unpickle it (``weights_only=False``)."""

    def change(entries):
        config_name = next(n for n in entries if n.endswith(WEIGHTS_CONFIG))
        config = json.loads(entries[config_name])
        first = next(iter(config["config"].values()))
        first["use_pickle"] = True
        entries[config_name] = json.dumps(config).encode()
        weight = next(n for n in entries if n.endswith(f"data/weights/{first['path_name']}"))
        entries[weight] = pickle.dumps(Payload(f"touch {marker}"))

    return rewrite_archive(pt2, change)


def exported(spec: dict) -> bytes:
    """A course model (``{"_target_": "reproml.models.CNN", ...}``) with fresh weights, saved
    as mlflow.pytorch.log_model saves one."""
    import torch

    from reproml.parts import build_part

    model = build_part(spec, "model").eval()
    program = torch.export.export(model, (torch.zeros(2, 1, 28, 28),))
    with tempfile.TemporaryDirectory() as tmp:
        torch.export.save(program, Path(tmp) / "model.pt2")
        return (Path(tmp) / "model.pt2").read_bytes()


def model_params(spec: dict) -> dict[str, str]:
    """The ``model.*`` parameters a run of ``spec`` logs."""
    return {f"model.{k}": str(v) for k, v in spec.items()}
