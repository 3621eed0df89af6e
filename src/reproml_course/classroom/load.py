"""A class at once: many students logging a full run each to the server, as a load test.

Each simulated student is a process of its own with its own account (MLflow reads credentials
from the environment, so threads could not be different users). It logs what a course run
logs: the configuration as parameters, ten epochs of stepped metrics, a figure and a small
model. Then every run is read back: FINISHED, with every metric at every step.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, field

from reproml_course.classroom.accounts import Account, team_experiment

EPOCHS = 10
METRICS = ("train_loss", "train_accuracy", "val_accuracy", "learning_rate")


@dataclass
class LoadReport:
    clients: int
    seconds: float
    run_ids: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # what each failed client said
    incomplete: list[str] = field(default_factory=list)  # runs missing something

    @property
    def ok(self) -> bool:
        return not self.failures and not self.incomplete and len(self.run_ids) == self.clients


def log_student_run(url: str, account: Account, competition: str, epochs: int = EPOCHS) -> str:
    """One student's full run, logged as that student; returns the run id."""
    os.environ["MLFLOW_TRACKING_USERNAME"] = account.username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = account.password
    import mlflow
    import mlflow.pytorch
    from matplotlib.figure import Figure
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    from reproml.config import load_config
    from reproml.parts import build_part
    from reproml.tracking.record import flat_params

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name(team_experiment(account.team, competition))
    run = client.create_run(experiment.experiment_id, run_name=f"{account.username}-load")
    run_id = run.info.run_id
    config = load_config(["model=logreg"])
    client.log_batch(run_id, params=[Param(k, v) for k, v in flat_params(config).items()])
    now = int(time.time() * 1000)
    for epoch in range(1, epochs + 1):
        values = [1 / epoch, 1 - 1 / (epoch + 1), 1 - 1 / (epoch + 2), 0.01 / epoch]
        client.log_batch(
            run_id,
            metrics=[
                Metric(k, v, now + epoch, epoch) for k, v in zip(METRICS, values, strict=True)
            ],
        )
    figure = Figure(figsize=(4, 3))
    figure.subplots().plot(range(1, epochs + 1), [1 / e for e in range(1, epochs + 1)])
    client.log_figure(run_id, figure, "learning_curves.png")
    mlflow.set_tracking_uri(url)
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pytorch.log_model(
            build_part(config.model, "model"), name="model", serialization_format="pickle",
            pip_requirements=["torch"],
        )  # fmt: skip
        mlflow.set_tag("model_uri", info.model_uri)
    return run_id


def _client(job: tuple[str, Account, str]) -> tuple[str | None, str | None]:
    try:
        return log_student_run(*job), None
    except Exception as error:
        return None, f"{job[1].username}: {type(error).__name__}: {str(error)[:200]}"


def simulate_class(url: str, accounts: list[Account], competition: str) -> LoadReport:
    """Every account logs a run at the same time; check each run on the server afterwards
    (with the credentials of this process: an admin's)."""
    context = multiprocessing.get_context("forkserver")  # children of a clean, preloaded process
    context.set_forkserver_preload(["mlflow", "mlflow.pytorch", "reproml.models"])
    start = time.perf_counter()
    with context.Pool(processes=len(accounts)) as pool:
        results = pool.map(_client, [(url, a, competition) for a in accounts], chunksize=1)
    report = LoadReport(len(accounts), time.perf_counter() - start)
    report.run_ids = [run_id for run_id, _ in results if run_id]
    report.failures = [problem for _, problem in results if problem]
    report.incomplete = [p for run_id in report.run_ids if (p := check_run(url, run_id))]
    return report


def check_run(url: str, run_id: str) -> str | None:
    """What is missing from a load-test run, or None."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    run = client.get_run(run_id)
    if run.info.status != "FINISHED":
        return f"{run_id}: status {run.info.status}"
    for name in METRICS:
        steps = sorted(m.step for m in client.get_metric_history(run_id, name))
        if steps != list(range(1, EPOCHS + 1)):
            return f"{run_id}: {name} has steps {steps}"
    if "learning_curves.png" not in {a.path for a in client.list_artifacts(run_id)}:
        return f"{run_id}: no figure"
    if "model_uri" not in run.data.tags:
        return f"{run_id}: no model"
    return None
