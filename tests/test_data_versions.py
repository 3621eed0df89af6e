"""Chapter 10's DVC helpers: a project with a local remote, a relabelled data set, file
digests, and the DVC version of a data folder that a tracked run records."""

from __future__ import annotations

import shutil

import mlflow
import pytest

from reproml.base.errors import ReproMLError
from reproml.base.paths import raw_folder
from reproml.experiment import run_experiment
from reproml.tracking.data_version import dvc_data_version
from reproml_course.chapters.dvc import (
    file_digests,
    new_project,
    relabel,
    run_tool,
    use_dvc,
)


def test_relabel_changes_exactly_the_labels_it_says(fresh_synthetic):
    path = raw_folder(fresh_synthetic.root) / "train-labels-idx1-ubyte"
    before = path.read_bytes()
    positions = relabel(fresh_synthetic.root, count=7, seed=3)
    after = path.read_bytes()
    assert len(positions) == 7 and before[:8] == after[:8]
    changed = [i - 8 for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == positions
    assert all(b < 10 for b in after[8:])
    assert relabel(fresh_synthetic.root, count=7, seed=3) == positions  # seeded


def test_file_digests_name_every_file_by_its_path(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.bin").write_bytes(b"x")
    (tmp_path / "y.bin").write_bytes(b"y")
    digests = file_digests(tmp_path)
    assert sorted(digests) == ["a/b/x.bin", "y.bin"]
    assert digests["y.bin"].startswith("a1fce4363854ff88")


def test_a_folder_dvc_does_not_track_has_no_version(tmp_path):
    assert dvc_data_version(tmp_path) == {}


@pytest.mark.slow
def test_a_tracked_run_records_the_dvc_version_of_its_data(
    tmp_path, fresh_synthetic, make_config, monkeypatch
):
    use_dvc()
    project = new_project(tmp_path / "project", tmp_path / "remote")
    shutil.copytree(fresh_synthetic.root, project / "data")
    run_tool(["dvc", "add", "data"], project)
    run_tool(["git", "add", "data.dvc", ".gitignore"], project)
    run_tool(["git", "commit", "-q", "-m", "v1"], project)
    first = run_tool(["git", "rev-parse", "HEAD"], project).strip()
    version = dvc_data_version(project / "data" / "FashionMNIST")
    md5 = version["data_dvc_md5"]
    assert version == {"data_dvc_md5": md5, "data_dvc_file": "data.dvc", "data_dvc_commit": first}

    config = make_config([f"data.root={project / 'data'}", "tracking=mlflow",
                          "tracking.log_model=false"])  # fmt: skip
    tags = mlflow.get_run(run_experiment(config).run_id).data.tags
    assert (tags["data_dvc_md5"], tags["data_dvc_commit"]) == (md5, first)

    relabel(project / "data", count=5, seed=0)
    assert dvc_data_version(project / "data")["data_dvc_md5"] == md5 + "+modified"
    run_tool(["dvc", "add", "data"], project)
    run_tool(["git", "commit", "-q", "-am", "v2"], project)
    run_tool(["git", "checkout", first, "--", "data.dvc"], project)
    run_tool(["dvc", "checkout"], project)
    assert dvc_data_version(project / "data") == version  # the old commit, not the last one
    with pytest.raises(ReproMLError, match="`dvc checkout nothing` failed in project"):
        run_tool(["dvc", "checkout", "nothing"], project)
