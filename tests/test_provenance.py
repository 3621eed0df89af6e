"""Where a run came from: the lock's digest only where the installed packages are the lock's."""

import sys
import tomllib
from pathlib import Path

import mlflow
import pytest

import reproml.provenance as provenance
from reproml.config import load_config
from reproml.experiment import run_experiment
from reproml.provenance import (
    INSTALLED_ARTIFACT,
    LOCKED,
    NOT_LOCKED,
    installed_packages,
    lock_differences,
    lock_tags,
    locked_versions,
    normalized_name,
)

ROOT = Path(__file__).resolve().parents[1]


def write_lock(path: Path, packages: dict[str, str]) -> Path:
    entries = "".join(
        f'[[package]]\nname = "{n}"\nversion = "{v}"\n\n' for n, v in packages.items()
    )
    path.write_text(f"version = 1\nrevision = 3\n\n{entries}")
    return path


def test_an_environment_made_from_the_lock_gets_its_digest(tmp_path):
    lock = write_lock(tmp_path / "uv.lock", installed_packages())
    tags = lock_tags(lock)
    assert tags == {"uv_lock_sha256": provenance.file_sha256(lock), "environment": LOCKED}


def test_installed_packages_are_what_their_metadata_says():
    """Read from the folders' names: the same names and versions as every METADATA file."""
    from importlib.metadata import distributions

    path = [entry for entry in sys.path if "_vendor" not in Path(entry).parts]
    read = {}
    for dist in distributions(path=path):
        read.setdefault(normalized_name(dist.metadata["Name"]), dist.version)
    assert installed_packages() == dict(sorted(read.items()))


def test_an_egg_info_is_read_from_its_metadata(tmp_path, monkeypatch):
    egg = tmp_path / "Old_Package.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old.Package\nVersion: 0.3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_packages()["old-package"] == "0.3"


def test_an_unreadable_folder_on_the_path_is_skipped(tmp_path, monkeypatch):
    """As importlib.metadata does: a tracked run must not fail on someone's sys.path."""
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.syspath_prepend(str(locked))
    iterdir = Path.iterdir

    def refuse(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refuse)
    assert "torch" in installed_packages()


def test_the_lock_s_versions_are_what_toml_reads(tmp_path):
    """uv.lock read from each table's first lines, as a TOML parser reads it: the course's own
    lock, a package split by markers (two versions) and one without a version; a table laid
    out otherwise (its version first) makes the whole file parsed."""
    real = {}
    for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]:
        real.setdefault(package["name"], set()).add(str(package.get("version")))
    assert locked_versions(ROOT / "uv.lock") == real
    lock = tmp_path / "uv.lock"
    lock.write_text(
        'version = 1\n\n[[package]]\nname = "numpy"\nversion = "2.2.6"\n\n'
        '[[package]]\nname = "numpy"\nversion = "2.5.5"\n\n'
        '[[package]]\nname = "my-project"\nsource = { editable = "." }\n'
    )
    assert locked_versions(lock) == {"numpy": {"2.2.6", "2.5.5"}, "my-project": {"None"}}
    lock.write_text(lock.read_text() + '\n[[package]]\nversion = "1.0"\nname = "Late_Name"\n')
    assert locked_versions(lock)["late-name"] == {"1.0"}


def test_a_pip_environment_is_not_tagged_with_the_lock(tmp_path):
    """Colab: its own numpy, and packages the course never locked."""
    packages = installed_packages()
    locked = {**packages, "numpy": "2.5.5"}
    del locked["torch"]
    tags = lock_tags(write_lock(tmp_path / "uv.lock", locked))
    assert tags["uv_lock_sha256"] == NOT_LOCKED
    summary = tags["environment"]
    assert summary.startswith("2 installed packages differ from uv.lock: ")
    assert f"numpy {packages['numpy']} (uv.lock: 2.5.5)" in summary
    assert f"torch {packages['torch']} (not in uv.lock)" in summary
    assert lock_tags(None) == {"uv_lock_sha256": "unknown", "environment": "no uv.lock"}


def test_the_course_s_own_environment_is_its_lock():
    """What `uv sync --locked` makes (CI): every installed package at the lock's version."""
    assert lock_differences(ROOT / "uv.lock") == ()


@pytest.mark.parametrize("locked", [True, False])
def test_a_run_outside_the_lock_keeps_the_list_of_what_was_installed(
    locked, synthetic, tmp_path, monkeypatch
):
    if not locked:  # what Colab's packages give (the test's own environment is the lock's)
        difference = ("numpy 2.0.2 (uv.lock: 2.5.5)",)
        monkeypatch.setattr(provenance, "lock_differences", lambda lock: difference)
    config = load_config([
        f"data.root={synthetic.root}", "data.train_size=64", "data.test_size=32",
        "trainer.epochs=1", "trainer.progress=false", "tracking=mlflow", "tracking.log_model=false",
    ])  # fmt: skip
    run_experiment(config)
    (run,) = mlflow.search_runs(search_all_experiments=True, output_format="list")
    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "environment")}
    if locked:
        assert run.data.tags["environment"] == LOCKED
        assert len(run.data.tags["uv_lock_sha256"]) == 64
        assert artifacts == set()
    else:
        assert run.data.tags["uv_lock_sha256"] == NOT_LOCKED
        assert run.data.tags["environment"].startswith("1 installed packages differ")
        assert artifacts == {INSTALLED_ARTIFACT}
        listed = client.download_artifacts(run.info.run_id, INSTALLED_ARTIFACT, str(tmp_path))
        assert f"torch=={installed_packages()['torch']}\n" in Path(listed).read_text()


def test_what_a_package_vendors_is_not_installed(monkeypatch):
    """``import setuptools`` puts ``setuptools/_vendor`` on sys.path: its jaraco, tomli and
    wheel made an environment made by ``uv sync --locked`` look unlike its lock (CI, when a
    test before had imported setuptools)."""
    import importlib.util

    spec = importlib.util.find_spec("setuptools")
    if spec is None or spec.origin is None:
        pytest.skip("no setuptools here")
    vendored = Path(spec.origin).parent / "_vendor"
    assert any(vendored.glob("jaraco.text-*.dist-info"))  # what setuptools vendors
    monkeypatch.syspath_prepend(str(vendored))
    assert "jaraco-text" not in installed_packages()
    lock_differences.cache_clear()
    try:
        assert lock_differences(ROOT / "uv.lock") == ()
    finally:
        lock_differences.cache_clear()
