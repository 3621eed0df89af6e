"""``reproml-course leaderboard``: the competition's runs ranked by a test accuracy that is
checked, not taken on trust.

A run's logged ``test_accuracy`` is only a number someone logged. For each finished run the
leaderboard loads the logged model, rebuilds the run's test split from its logged
configuration (on the instructor's copy of the data, which must have the same digest) and
evaluates it again. Runs are ranked by that re-evaluated accuracy; a run whose logged value
differs, that has no model, or whose data differs is flagged and not ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reproml.course.accounts import COMPETITION
from reproml.logs import no_mlflow_progress_bars, quiet_loggers
from reproml.tracking.mlflow import TrackingError, check_tracking_uri, using_tracking_uri

TOLERANCE = 1e-4  # accuracies are counts over thousands of images: a real match is exact


@dataclass(frozen=True)
class Entry:
    team: str
    run_id: str
    run_name: str
    user: str
    logged: float
    verified: float | None
    problem: str | None  # why the run is not ranked

    @property
    def ranked(self) -> bool:
        return self.problem is None


def leaderboard(
    tracking_uri: str,
    competition: str = COMPETITION,
    data_root: str | None = None,
    tolerance: float = TOLERANCE,
) -> list[Entry]:
    """Every finished run of ``<competition>/*``: ranked entries first (best first), then the
    flagged ones."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    check_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    try:
        experiments = {
            e.experiment_id: e.name.removeprefix(f"{competition}/")
            for e in client.search_experiments(filter_string=f"name LIKE '{competition}/%'")
        }
        runs = (
            client.search_runs(
                list(experiments), "attributes.status = 'FINISHED'", max_results=10_000
            )
            if experiments
            else []
        )
    except MlflowException as error:
        raise TrackingError(f"Cannot read the competition at {tracking_uri}: {error}") from None
    with no_mlflow_progress_bars():
        entries = [_verify(run, experiments, tracking_uri, data_root, tolerance) for run in runs]
    entries = [e for e in entries if e is not None]
    return sorted(entries, key=lambda e: (not e.ranked, -(e.verified or 0.0), -e.logged))


def _verify(run, experiments, tracking_uri, data_root, tolerance) -> Entry | None:
    import mlflow
    from omegaconf import OmegaConf

    logged = run.data.metrics.get("test_accuracy")
    if logged is None:
        return None  # nothing to rank
    entry = {
        "team": experiments[run.info.experiment_id],
        "run_id": run.info.run_id,
        "run_name": run.info.run_name or "",
        "user": run.info.user_id or run.data.tags.get("mlflow.user", ""),
        "logged": logged,
    }
    model_uri = run.data.tags.get("model_uri")
    if not model_uri:
        return Entry(**entry, verified=None, problem="no logged model: cannot verify")
    try:
        with quiet_loggers("mlflow"):
            config = OmegaConf.create(
                mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/config.yaml")
            )
            model = _load_model(model_uri, tracking_uri)
    except Exception as error:  # a model or config that does not load is not verified
        reason = str(error).strip().splitlines()[0][:120]
        return Entry(**entry, verified=None, problem=f"cannot load its model: {reason}")
    verified, digest = evaluate(model, config, data_root)
    if digest != run.data.tags.get("data_digest"):
        return Entry(**entry, verified=verified, problem="trained on other data (digest differs)")
    if math.isnan(logged) or abs(verified - logged) > tolerance:
        problem = f"logged {logged:.4f}, re-evaluated {verified:.4f}"
        return Entry(**entry, verified=verified, problem=problem)
    return Entry(**entry, verified=verified, problem=None)


def _load_model(model_uri: str, tracking_uri: str):
    import mlflow.pytorch

    with using_tracking_uri(tracking_uri):
        return mlflow.pytorch.load_model(model_uri, map_location="cpu")


def evaluate(model, config, data_root: str | None = None) -> tuple[float, str]:
    """Test accuracy of ``model`` on the test split ``config`` describes, and the digest of
    the data it was read from."""
    from reproml.metrics import accuracy
    from reproml.training import load_data, predict

    data = load_data({**config.data, "root": data_root, "download": False})
    return accuracy(predict(model, data.test), data.test.labels), data.digest


def format_leaderboard(entries: list[Entry]) -> str:
    if not entries:
        return "No finished run with a test_accuracy in the competition yet."
    header = f"{'#':>3}  {'team':<14} {'run':<22} {'logged':>7} {'verified':>8}  note"
    lines = [header, "-" * len(header)]
    rank = 0
    for e in entries:
        rank += e.ranked
        verified = f"{e.verified:.4f}" if e.verified is not None else "-"
        position = str(rank) if e.ranked else "-"
        note = "verified" if e.ranked else f"FLAGGED: {e.problem}"
        lines.append(
            f"{position:>3}  {e.team[:14]:<14} {e.run_name[:22]:<22} {e.logged:>7.4f} "
            f"{verified:>8}  {note}"
        )
    return "\n".join(lines)


def plot_leaderboard(entries: list[Entry], top: int = 10):
    """The ranked runs as bars, best on top, with the flagged ones in red after them."""
    from matplotlib.figure import Figure

    shown = [e for e in entries if e.ranked][:top] + [e for e in entries if not e.ranked]
    shown = shown[::-1]
    figure = Figure(figsize=(7, 0.4 * len(shown) + 1.2), layout="constrained")
    ax = figure.subplots()
    values = [e.verified if e.verified is not None else e.logged for e in shown]
    colors = ["tab:blue" if e.ranked else "tab:red" for e in shown]
    ax.barh([f"{e.team} · {e.run_name}" for e in shown], values, color=colors)
    low = min(values, default=0.0)
    ax.set(
        xlabel="test accuracy (re-evaluated; red: flagged, not ranked)",
        xlim=(max(0.0, low - 0.05), 1.0),
        title="Leaderboard",
    )
    return figure
