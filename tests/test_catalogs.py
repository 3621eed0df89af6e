"""CI's gate on the checks' catalogs of wrong answers (``tests/catalogs.py``): a chapter's digest
moves with what its wrong answers depend on, and with nothing else."""

import shutil
from pathlib import Path

import catalogs
import pytest


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for part in ("tests", "src/reproml_course/checks", "solutions"):
        shutil.copytree(
            catalogs.ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(catalogs.ROOT / "uv.lock", tmp_path / "uv.lock")
    monkeypatch.setattr(catalogs, "ROOT", tmp_path)
    monkeypatch.setattr(catalogs, "RECORD", tmp_path / "tests/checks/catalogs.yaml")
    return tmp_path


def touch(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\n")


def test_a_chapter_digest_follows_its_own_files_only(root):
    before = {
        n: catalogs.catalog_digest(n) for n in ("test_ch05_papermill.py", "test_ch09_optuna.py")
    }
    touch(root / "src/reproml_course/checks/ch09_pruning.py")
    assert catalogs.catalog_digest("test_ch05_papermill.py") == before["test_ch05_papermill.py"]
    assert catalogs.catalog_digest("test_ch09_optuna.py") != before["test_ch09_optuna.py"]
    for shared in ("src/reproml_course/checks/base.py", "solutions/experiment.ipynb", "uv.lock"):
        old = catalogs.catalog_digest("test_ch05_papermill.py")
        touch(root / shared)
        assert catalogs.catalog_digest("test_ch05_papermill.py") != old, shared


def test_only_recorded_digests_that_still_hold_are_unchanged(root):
    catalogs.RECORD.write_text(
        f"test_ch05_papermill.py: {catalogs.catalog_digest('test_ch05_papermill.py')}\n"
        "test_ch09_optuna.py: 0000000000000000\n"
    )
    assert catalogs.unchanged_catalogs() == ["test_ch05_papermill.py"]
    touch(root / "tests/checks/test_ch05_papermill.py")
    assert catalogs.unchanged_catalogs() == []


def test_catalogs_are_the_chapters_test_files():
    assert (
        catalogs.catalog_of(Path("tests/checks/test_ch05_papermill.py")) == "test_ch05_papermill.py"
    )
    assert catalogs.catalog_of(Path("tests/checks/test_own_code.py")) is None
    assert catalogs.catalog_of(Path("tests/course/test_ch05_x.py")) is None
