"""The files of exercise 4.1's run: the configuration as ``config.yaml`` (the given one,
or the one the training resolved) beside the tag of the data's digest, and the model, logged
under its name, which reloads and scores as the trained model did and whose requirements pin
the torch that trained it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from reproml_course.checks.base import CheckFailed, expect

MODEL_NAME = "model"


def _check_record(run, data, config, resolved) -> None:
    """The tag ``data_digest`` (the data that trained, every split) and the configuration as
    the file ``config.yaml``: the given one, or the one the training resolved."""
    import yaml
    from mlflow import MlflowClient
    from omegaconf import OmegaConf

    tag = run.data.tags.get("data_digest")
    expect(
        tag == data.digest,
        "the run has no tag data_digest."
        if tag is None
        else f"the run's data_digest is {tag[:16]}..., the data that trained has "
        f"{data.digest[:16]}... (data.digest: every split's images and labels).",
        "tag the run with the digest of the data it used: mlflow.set_tag('data_digest', "
        "data.digest).",
    )
    client = MlflowClient()
    files = {a.path for a in client.list_artifacts(run.info.run_id)}
    expect(
        "config.yaml" in files,
        "the run has no config.yaml among its artifacts"
        + (f" (it has {', '.join(sorted(files))})." if files else "."),
        "log the configuration as a file of the run: mlflow.log_dict(..., 'config.yaml').",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = client.download_artifacts(run.info.run_id, "config.yaml", folder)
        try:
            logged = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError:
            logged = None
    wanted = [OmegaConf.to_container(c, resolve=True) for c in (config, resolved)]
    expect(
        logged in wanted,
        "the run's config.yaml is not the configuration that ran"
        + (
            f": {_first_difference(logged, wanted[0])}."
            if isinstance(logged, dict)
            else " (it is not a YAML mapping)."
        ),
        "log the whole configuration, nested as it is, with its values resolved: "
        "OmegaConf.to_container(config, resolve=True).",
    )


def _first_difference(logged: dict, wanted: dict, prefix: str = "") -> str:
    for key in sorted(set(logged) | set(wanted), key=str):
        name = f"{prefix}{key}"
        if key not in logged:
            return f"{name} is missing"
        if key not in wanted:
            return f"{name} is not in the configuration"
        if isinstance(logged[key], dict) and isinstance(wanted[key], dict):
            found = _first_difference(logged[key], wanted[key], f"{name}.")
            if found:
                return found
        elif logged[key] != wanted[key]:
            return f"{name} is {logged[key]!r}, the configuration says {wanted[key]!r}"
    return ""


def _logged_model(run_id: str):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_run(run_id).info.experiment_id
    models = client.search_logged_models([experiment], filter_string=f"source_run_id='{run_id}'")
    expect(
        bool(models),
        "the run has no logged model.",
        "log the trained model with MLflow's PyTorch flavour, inside the run.",
    )
    expect(
        models[0].name == MODEL_NAME,
        f"the run's logged model is named {models[0].name!r}, not {MODEL_NAME!r}.",
        "give the logged model the name the exercise asks for: without one, MLflow makes "
        "up a random name, which says nothing in the UI.",
    )
    _check_requirements(models[0])
    try:
        return mlflow.pytorch.load_model(models[0].model_uri, map_location="cpu")
    except Exception as error:
        raise CheckFailed(f"the logged model does not reload: {error}".splitlines()[0]) from None


def _scores_of_reloaded(model, inputs):
    """The reloaded model's scores for a batch of 256 test images. MLflow exports the model
    with the input example's shape: an example of one image fixes the batch size to 1, and the
    reloaded model then refuses any other (an assertion error from deep inside torch)."""
    try:
        return model(inputs)
    except Exception as error:
        raised = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        raise CheckFailed(
            f"the logged model, reloaded, cannot score a batch of {len(inputs)} images ({raised}).",
            "MLflow exports the model with the shape of its input_example: give it two images "
            "(an example of one image fixes the batch size to 1).",
        ) from None


def _check_requirements(model) -> None:
    """The logged model says which torch it needs, as pip can install it."""
    import re
    import tempfile

    import mlflow
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{model.artifact_location}/requirements.txt", dst_path=tmp
            )
            lines = [line.strip() for line in Path(path).read_text().splitlines()]
        except Exception:
            lines = []
    torches = [line for line in lines if re.match(r"torch\b(?![-_.\w])", line)]
    expect(
        bool(torches),
        "the logged model's requirements do not say which torch it needs.",
        "give the model's pip requirements: the torch that trained it.",
    )
    public = torch.__version__.split("+")[0]
    pinned = re.match(r"torch\s*==\s*(\S+)", torches[0])
    local = pinned is not None and "+" in pinned.group(1)
    expect(
        pinned is None or pinned.group(1) == public,
        f"the logged model's requirements say {torches[0]!r}: "
        + (
            "pip cannot install a local version (the part after '+') from PyPI."
            if local
            else f"not the torch that trained it ({public})."
        ),
        "pin the torch that trained the model, as pip knows it (its version up to any '+').",
    )
