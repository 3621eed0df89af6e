"""The checks' catalogs of wrong answers (``tests/checks/test_chNN_*.py``), run when they changed.

Their slow tests run the students' scripts, kernels and papermill sweeps: 188 tests in 696 s for
all chapters with two workers on two cores, too much for CI's budget. So, like the mutation
record, CI runs a chapter's slow catalog tests only when something they depend on changed since
they last passed:

    uv run pytest -m slow tests/checks --record-catalogs   # all of them; records what passed
    uv run pytest -m slow --catalogs=changed               # CI: the others are deselected

``tests/checks/catalogs.yaml`` maps each catalog to the digest it passed with: the test file, the
tests' shared helpers, every check module that is not another chapter's, the chapter's
solution notebooks and ``uv.lock``. What the checks call in the rest of the package (training,
tracking) is not part of it: a change there is caught by the notebooks' run in CI (every check on
its solution), not by the wrong answers.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "checks" / "catalogs.yaml"
CATALOG = re.compile(r"test_ch(\d\d)_\w+\.py")
SHARED = ("tests/conftest.py", "tests/synthetic_data.py", "tests/checks/solution_cells.py")


def catalog_of(path: Path) -> str | None:
    """``test_ch05_papermill.py`` for a test of that catalog, else None."""
    path = Path(path)
    if path.parent.name == "checks" and CATALOG.fullmatch(path.name):
        return path.name
    return None


def catalog_digest(name: str) -> str:
    chapter = CATALOG.fullmatch(name)[1]
    files = [ROOT / "tests" / "checks" / name, ROOT / "uv.lock", *(ROOT / p for p in SHARED)]
    for module in sorted((ROOT / "src" / "reproml_course" / "checks").iterdir()):
        other = re.match(r"ch(\d\d)_", module.name)
        if module.is_file() and (other is None or other[1] == chapter):
            files.append(module)
    files += sorted((ROOT / "solutions").glob(f"{chapter}_*.ipynb"))
    if chapter == "05":
        files.append(ROOT / "solutions" / "experiment.ipynb")
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def read_record() -> dict[str, str]:
    import yaml

    return (yaml.safe_load(RECORD.read_text()) or {}) if RECORD.is_file() else {}


def unchanged_catalogs() -> list[str]:
    return sorted(name for name, digest in read_record().items() if catalog_digest(name) == digest)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("catalogs", "the checks' catalogs of wrong answers")
    group.addoption(
        "--catalogs",
        choices=("all", "changed"),
        default="all",
        help="changed: deselect the slow catalog tests unchanged since they last passed (CI)",
    )
    group.addoption(
        "--record-catalogs",
        action="store_true",
        help="write tests/checks/catalogs.yaml for the catalogs whose slow tests all passed",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("--catalogs") != "changed":
        return None
    unchanged = unchanged_catalogs()
    return "catalogs unchanged since they passed (slow tests deselected): " + (
        ", ".join(unchanged) or "none"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--catalogs") != "changed":
        return
    unchanged = set(unchanged_catalogs())
    keep, drop = [], []
    for item in items:
        gated = item.get_closest_marker("slow") and catalog_of(item.path) in unchanged
        (drop if gated else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class CatalogRecorder:
    """On the controller (xdist's or the only process): which catalogs' slow tests all passed."""

    def __init__(self) -> None:
        self.passed: dict[str, int] = {}
        self.failed: set[str] = set()

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = catalog_of(Path(report.fspath))
        if name is None or "slow" not in report.keywords:
            return
        if report.failed or (report.when == "call" and report.skipped):
            self.failed.add(name)
        elif report.when == "call" and report.passed:
            self.passed[name] = self.passed.get(name, 0) + 1

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        import yaml

        record = read_record()
        for name in sorted(set(self.passed) - self.failed):
            record[name] = catalog_digest(name)
        RECORD.write_text(
            "# Catalogs of wrong answers and the digest their slow tests last passed with\n"
            "# (tests/catalogs.py): CI's slow tier reruns a catalog only when its digest changed.\n"
            + yaml.safe_dump(dict(sorted(record.items())), sort_keys=False)
        )


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--record-catalogs", default=False) or hasattr(config, "workerinput"):
        return
    if config.option.keyword or any("::" in arg for arg in config.args):
        raise pytest.UsageError("--record-catalogs records whole catalogs: no -k, no test ids")
    config.pluginmanager.register(CatalogRecorder(), "catalog-recorder")
