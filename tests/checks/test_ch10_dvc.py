"""Chapter 10's checks against what students really do: forget `dvc push`, forget the commit,
commit before `dvc add`, return the wrong commit; restore with git alone, with DVC alone, with
`dvc checkout` where the cache lacks the version, or by checking out the whole old commit."""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

VERSION = code_cell("10_data_versions_dvc.ipynb", "def version_data")
RESTORE = "import subprocess\n" + code_cell("10_data_versions_dvc.ipynb", "def restore_data")

pytestmark = pytest.mark.slow  # every check runs git and DVC a dozen times (1-2 s each)


def test_the_solutions_pass(evaluate):
    assert evaluate("10.1", define(VERSION, "version_data")) == (True, "passed")
    assert evaluate("10.2", define(RESTORE, "restore_data")) == (True, "passed")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('        ["dvc", "push"],\n', "", "cannot get the data"),
        ('        ["git", "commit", "--quiet", "-m", message],\n', "", "there is no new commit"),
        ('        ["dvc", "add", "data"],\n        ["git", "add", "data.dvc", ".gitignore"],\n'
         '        ["git", "commit", "--quiet", "-m", message],\n',
         '        ["git", "commit", "--quiet", "--allow-empty", "-m", message],\n'
         '        ["dvc", "add", "data"],\n', "has changes that were not committed"),
        ('return done.stdout.strip()', 'return "HEAD"', "not the new commit"),
    ],
    ids=["no push", "no commit", "commit before add", "not the hash"],
)  # fmt: skip
def test_a_wrong_version_fails_10_1(evaluate, old, new, said):
    passed, message = evaluate("10.1", define(mutate(VERSION, old, new), "version_data"))
    assert not passed and said in message, message


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('    subprocess.run(["dvc", "pull"], cwd=project, check=True)\n', "",
         "not the first version"),
        ('    subprocess.run(["git", "checkout", commit, "--", "data.dvc"], cwd=project, '
         'check=True)\n', "", "not the first version"),
        ('["dvc", "pull"]', '["dvc", "checkout"]', "the command `dvc checkout` failed"),
        ('["git", "checkout", commit, "--", "data.dvc"]', '["git", "checkout", "--quiet", commit]',
         "the whole project went back"),
    ],
    ids=["git only", "dvc only", "checkout without the cache", "whole commit"],
)  # fmt: skip
def test_a_wrong_restore_fails_10_2(evaluate, old, new, said):
    passed, message = evaluate("10.2", define(mutate(RESTORE, old, new), "restore_data"))
    assert not passed and said in message, message
