"""What a run of the student's Hydra application must leave (3.2, 3.3): the configuration
its overrides compose, saved in the run's folder; the metrics of the course's training on it;
and the validation accuracy returned, which Hydra keeps nowhere, so a callback of the check's
(``ReturnRecorder``, added with command-line overrides) records it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from reproml_course.checks.base import expect
from reproml_course.checks.scripts import expect_same_metrics, read_json_object


class ReturnRecorder(Callback):
    """A Hydra callback the checks add to a student's run (``hydra.callbacks``): it appends what
    each job's function returned to a JSON-lines file, since Hydra itself keeps it nowhere."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def on_job_end(self, config: Any, job_return: Any, **kwargs: Any) -> None:
        value = job_return._return_value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        record = {
            "folder": str(config.hydra.runtime.output_dir),
            "status": getattr(job_return.status, "name", str(job_return.status)),
            "type": type(value).__name__,
            "value": float(value) if number else None,
        }
        with self.path.open("a") as file:
            file.write(json.dumps(record) + "\n")


def recorder_overrides(path: Path) -> list[str]:
    """The command-line overrides that add ``ReturnRecorder``, writing to ``path``."""
    key = "++hydra.callbacks.reproml_check_return"
    return [f"{key}._target_={ReturnRecorder.__module__}.ReturnRecorder", f"{key}.path={path}"]


def recorded_returns(path: Path) -> dict[str, dict]:
    """{run folder (resolved): record} of what ``ReturnRecorder`` wrote."""
    if not path.is_file():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {str(Path(r["folder"]).resolve()): r for r in records}


def expected_run(composed: dict, data_root: Path) -> tuple[dict[str, float], float]:
    """The metrics of the course's training on a composed configuration (on the check's
    data), and the seconds it took here: how long the student's run may take, roughly."""
    import copy
    import time

    from reproml.training import train

    config = copy.deepcopy(composed)
    config["data"]["root"] = str(data_root)
    started = time.perf_counter()
    metrics = train(config).metrics
    return metrics, time.perf_counter() - started


def _check_run_results(
    shown: str, run_dir: Path, composed: dict, expected: dict[str, float], returned: dict | None
) -> None:
    """The configuration these overrides compose saved, the course's metrics for it in the
    run's folder, its validation accuracy returned."""
    expect(
        _saved_config(run_dir / ".hydra" / "config.yaml") == composed,
        f"after `{shown}`, the .hydra/config.yaml of the run is not the configuration these "
        "overrides compose.",
        "let Hydra compose the configuration from the command line.",
    )
    metrics = read_json_object(
        run_dir / "metrics.json",
        f"after `{shown}`, the metrics of the run",
        "with version_base='1.3' Hydra does not change the working directory: ask it where "
        "this run's folder is (in a sweep, each job has its own).",
    )
    expect_same_metrics(
        metrics,
        expected,
        f"`{shown}` did not train the configuration Hydra composed",
        "train with the configuration the decorated function receives, not one of your own.",
    )
    _check_returned(f"`{shown}`", returned, expected)


def _check_returned(what: str, record: dict | None, expected: dict[str, float]) -> None:
    """What the decorated function returned (``record``, from ReturnRecorder) for the run
    ``what``: its validation accuracy."""
    hint = (
        "the decorated function returns the validation accuracy: it is what a sweeper "
        "(Optuna's, for one) optimises, and the test set is kept for the run chosen."
    )
    expect(
        record is not None,
        f"{what} ran, but Hydra never saw the decorated function end.",
        "call the decorated function under `if __name__ == '__main__':`, once.",
    )
    value, val = record["value"], expected["val_accuracy"]
    expect(
        record["type"] != "NoneType",
        f"{what}: the decorated function returns nothing.",
        hint,
    )
    expect(
        value is not None,
        f"{what}: the decorated function returns a {record['type']}, not a number.",
        hint,
    )
    expect(
        not (value == expected.get("test_accuracy") and value != val),
        f"{what}: the decorated function returns the test accuracy ({value:.4f}).",
        hint,
    )
    expect(
        abs(value - val) <= 1e-9,
        f"{what}: the decorated function returns {value!r}, not the run's validation "
        f"accuracy ({val:.4f}).",
        hint,
    )


def _saved_config(path: Path) -> dict:
    """A run's .hydra/config.yaml, interpolations resolved where they can be."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    saved = OmegaConf.load(path)
    try:
        return OmegaConf.to_container(saved, resolve=True)
    except OmegaConfBaseException:  # e.g. ${hydra:...}, which only a running app resolves
        return OmegaConf.to_container(saved)
