import os

import pytest

from reproml.cli.output_dir import output_dir_problem


def test_a_new_folder_under_a_writable_one_is_fine(tmp_path):
    assert output_dir_problem(tmp_path / "outputs" / "2026-11-23") is None
    assert not (tmp_path / "outputs").exists(), "the check must not create anything"


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / "outputs").write_text("not a folder")
    problem = output_dir_problem(tmp_path / "outputs" / "run")
    assert problem == f"{tmp_path / 'outputs'} is a file, not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_a_read_only_folder_is_named(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert output_dir_problem(locked / "run").startswith(f"{locked} is not writable")
