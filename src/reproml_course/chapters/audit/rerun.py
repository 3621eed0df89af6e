"""Chapter 06: redo a logged run from its own record, and say what came out the same.

``rerun`` reads the configuration a run logged (``config.yaml``), trains again through the same
code, and compares metric by metric (the final values and every epoch), then the provenance
tags: when results differ, the environment usually does too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf

from reproml.experiment import run_experiment
from reproml.parts import check_trusted_config
from reproml.provenance import environment_tags
from reproml.schema import TARGETS, course_target
from reproml.tracking.record import EPOCH_METRICS
from reproml.tracking.stores import (
    TrackingError,
    check_tracking_uri,
    default_tracking_uri,
    using_tracking_uri,
)

# Tags that describe code, environment and data; the others (run name, user...) may differ.
PROVENANCE_TAGS = (
    "git_commit",
    "git_dirty",
    "uv_lock_sha256",
    "python",
    "torch",
    "torchvision",
    "reproml",
    "platform",
    "device",
    "data_digest",
)


@dataclass(frozen=True)
class MetricComparison:
    name: str  # "test_accuracy", or "val_accuracy@3" for the value after epoch 3
    original: float
    rerun: float

    @property
    def identical(self) -> bool:
        both_nan = math.isnan(self.original) and math.isnan(self.rerun)
        return both_nan or self.original == self.rerun


@dataclass
class Comparison:
    run_id: str
    rerun_id: str | None  # None when the re-run was not logged
    metrics: list[MetricComparison]
    environment: dict[str, tuple[str, str]] = field(default_factory=dict)  # tag: (then, now)

    @property
    def identical(self) -> bool:
        return all(m.identical for m in self.metrics)

    def __str__(self) -> str:
        logged = f" (logged as run {self.rerun_id})" if self.rerun_id else ""
        lines = [f"Re-run of run {self.run_id}{logged}:"]
        width = max((len(m.name) for m in self.metrics), default=0)
        for m in self.metrics:
            verdict = "identical" if m.identical else f"DIFFERS by {m.rerun - m.original:+.3g}"
            lines.append(f"  {m.name:<{width}}  {m.original:.6f} -> {m.rerun:.6f}  {verdict}")
        same = sum(m.identical for m in self.metrics)
        lines.append(f"{same} of {len(self.metrics)} metrics identical.")
        if self.environment:
            lines.append("Provenance that differs (then -> now):")
            lines += [f"  {tag}: {then} -> {now}" for tag, (then, now) in self.environment.items()]
        else:
            lines.append("Same code, lock file, versions, device and data as the original.")
        return "\n".join(lines)


def rerun(
    run_id: str,
    *,
    tracking_uri: str | None = None,
    overrides: dict[str, Any] | None = None,
    log: bool = True,
    trust: bool = False,
) -> Comparison:
    """Train again with the configuration that run ``run_id`` logged, and compare the results.

    ``overrides`` (dotted keys) change that configuration, e.g. ``{"data.root": ...}`` when the
    data now lives elsewhere: a deliberate change then shows in the comparison. With ``log``
    the re-run is logged to the same experiment, tagged ``rerun_of``, without its model.

    The logged configuration may be a classmate's: each ``_target_`` in it must be one of the
    course's parts (``reproml.parts.check_trusted_config``), unless ``trust`` says the store is
    yours.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    uri = tracking_uri or default_tracking_uri()
    check_tracking_uri(uri)
    client = MlflowClient(uri)
    try:
        original = client.get_run(run_id)
        with using_tracking_uri(uri):  # what runs:/ resolves against
            config = OmegaConf.create(mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml"))
    except MlflowException as error:
        raise TrackingError(f"Cannot re-run {run_id!r} from {uri}: {error.message}") from None
    config = upgraded_config(config)
    for key, value in (overrides or {}).items():
        OmegaConf.update(config, key, value, force_add=True)
    if not trust:
        check_trusted_config(config)
    if log:
        experiment = client.get_experiment(original.info.experiment_id).name
        config.tracking = {
            "_target_": course_target("tracking", "mlflow"),
            "uri": uri,
            "experiment": experiment,
            "log_model": False,
            "tags": {"rerun_of": run_id},
        }
    else:
        config.tracking = {"_target_": course_target("tracking", "none")}
    result = run_experiment(config)

    metrics = [
        MetricComparison(name, original.data.metrics[name], value)
        for name, value in result.metrics.items()
        if name in original.data.metrics
    ]
    for name in EPOCH_METRICS:
        logged = {m.step: m.value for m in client.get_metric_history(run_id, name)}
        for record in result.history:
            if record.epoch in logged:
                value = getattr(record, name)
                metrics.append(
                    MetricComparison(f"{name}@{record.epoch}", logged[record.epoch], value)
                )
    now = {**environment_tags(), "device": result.device, "data_digest": result.data_digest}
    environment = {
        tag: (original.data.tags.get(tag, "unknown"), now[tag])
        for tag in PROVENANCE_TAGS
        if original.data.tags.get(tag, "unknown") != now[tag]
    }
    return Comparison(run_id, result.run_id, metrics, environment)


def upgraded_config(config: DictConfig) -> DictConfig:
    """A configuration logged before the course built its parts with ``_target_`` (``name:
    cnn``, ``trainer.lr_schedule``), in today's form; today's configurations are unchanged."""
    config = OmegaConf.create(OmegaConf.to_container(config))
    for group in ("model", "optimizer", "tracking"):
        node = config.get(group)
        if (
            isinstance(node, DictConfig)
            and "_target_" not in node
            and node.get("name") in TARGETS[group]
        ):
            name = node.pop("name")
            config[group] = {"_target_": course_target(group, name), **node}
            if group == "optimizer":
                config[group]["_partial_"] = True
    schedule = OmegaConf.select(config, "trainer.lr_schedule", default=None)
    if schedule in TARGETS["scheduler"]:
        config.trainer.pop("lr_schedule")
        config.scheduler = {
            "_target_": course_target("scheduler", schedule),
            "_partial_": True,
        }
    return config
