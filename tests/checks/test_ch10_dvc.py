"""Chapter 10's checks against what students really do.

10.1 (version a change of the data: a changed, an added and a removed file, beside work in
progress that is not the data's): forget `dvc push`, or push before hashing; forget the
commit; commit before `dvc add`; `git commit --amend` (replaces the previous version);
`git commit -a` or `git add -A` (the work in progress goes into the data's commit); the data
itself added to git; return "HEAD", the previous commit, a short hash, or the hash with its
line break; ignore the message; run the commands without check=True (a `dvc push` that
cannot reach the remote goes unnoticed); delegate to the course's `run_tool` or the check's own
`_reference_version`. Accepted: `git -C`, .gitignore left out of `git add` (unchanged).

10.2 (restore the first of three versions in the project, the second in a fresh clone whose
cache holds only the latest, each beside an uncommitted change to train.py): git alone; DVC
alone; `dvc checkout` where the cache lacks the version; the whole old commit checked out
(HEAD detached), or checked out and back (data.dvc no longer names the data); `git reset
--hard`; `git checkout COMMIT -- .` (every file back); the previous commit instead of the one
given; `dvc pull` before the checkout; the restore committed; a command run without
check=True (a commit that does not exist, or a version neither cache nor remote can give,
goes unnoticed); the course's `run_tool`.
Accepted: `git restore --source`, `dvc fetch` then `dvc checkout`.
"""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

VERSION = code_cell("10_data_versions_dvc.ipynb", "def version_data")
RESTORE = "import subprocess\n" + code_cell("10_data_versions_dvc.ipynb", "def restore_data")

pytestmark = pytest.mark.slow  # every check runs git and DVC a dozen times (1-2 s each)

COMMIT = '["git", "commit", "--quiet", "-m", message]'
ADD = '["git", "add", "data.dvc", ".gitignore"]'
CHECKOUT = '["git", "checkout", commit, "--", "data.dvc"]'
PULL = '    subprocess.run(["dvc", "pull"], cwd=project, check=True)\n'
STEPS = f'        ["dvc", "add", "data"],\n        {ADD},\n        {COMMIT},\n'
PUSH = '        ["dvc", "push"],\n'
GIT = '    subprocess.run(["git", "checkout", commit, "--", "data.dvc"], cwd=project, check=True)\n'


def test_the_solutions_pass(evaluate):
    assert evaluate("10.1", define(VERSION, "version_data")) == (True, "passed")
    assert evaluate("10.2", define(RESTORE, "restore_data")) == (True, "passed")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('        ["dvc", "push"],\n', "", "cannot get the data"),
        (STEPS + PUSH, PUSH + STEPS, "cannot get the data"),
        (f"        {COMMIT},\n", "", "there is no new commit"),
        (f'        ["dvc", "add", "data"],\n        {ADD},\n        {COMMIT},\n',
         '        ["git", "commit", "--quiet", "--allow-empty", "-m", message],\n'
         '        ["dvc", "add", "data"],\n', "has changes that were not committed"),
        (COMMIT, '["git", "commit", "--quiet", "--amend", "-m", message]', "--amend"),
        (COMMIT, '["git", "commit", "--quiet", "-a", "-m", message]', "also records train.py:"),
        (ADD, '["git", "add", "-A"]', "also records scratch.py"),
        (ADD, '["git", "add", "-f", "data", "data.dvc"]', "data files themselves"),
        (COMMIT, '["git", "commit", "--quiet", "-m", "update the data"]', "message is"),
        ("return done.stdout.strip()", 'return "HEAD"', "not the new commit"),
        ('["git", "rev-parse", "HEAD"]', '["git", "rev-parse", "HEAD~1"]',
         "the previous commit's hash"),
        ('["git", "rev-parse", "HEAD"]', '["git", "rev-parse", "--short", "HEAD"]',
         "an abbreviation"),
        ("return done.stdout.strip()", "return done.stdout", "line break"),
        ("        subprocess.run(command, cwd=project, check=True)",
         "        run_tool(command, project)",
         "course's own `reproml_course.chapters.dvc.run_tool`"),
        ("subprocess.run(command, cwd=project, check=True)",
         "subprocess.run(command, cwd=project)", "could not reach the remote"),
    ],
    ids=["no push", "push first", "no commit", "commit before add", "amend", "commit -a",
         "add -A", "data in git", "own message", "not the hash", "previous commit",
         "short hash", "line break", "course's run_tool", "unchecked commands"],
)  # fmt: skip
def test_a_wrong_version_fails_10_1(evaluate, old, new, said):
    code = mutate(VERSION, old, new)
    if "run_tool" in code:
        code = "from reproml_course.chapters.dvc import run_tool\n" + code
    passed, message = evaluate("10.1", define(code, "version_data"))
    assert not passed and said in message, message


def through_the_check(project, message):
    from reproml_course.checks.ch10_project import _reference_version

    return _reference_version(project, message)


def test_the_checks_own_answer_fails_10_1(evaluate):
    passed, message = evaluate("10.1", through_the_check)
    assert not passed and "course's own `reproml_course.checks.ch10_project" in message, message


def test_a_variant_passes_10_1(evaluate):
    code = mutate(VERSION, ADD, '["git", "add", "data.dvc"]')
    code = mutate(code, "subprocess.run(command, cwd=project, check=True)",
                  'subprocess.run([command[0], *(["-C", str(project)] if command[0] == "git" '
                  'else []), *command[1:]], cwd=project if command[0] == "dvc" else None, '
                  "check=True)")  # fmt: skip
    assert evaluate("10.1", define(code, "version_data")) == (True, "passed")


WHOLE_AND_BACK = (
    '    subprocess.run(["git", "checkout", "--quiet", commit], cwd=project, check=True)\n'
    + PULL
    + '    subprocess.run(["git", "checkout", "--quiet", "main"], cwd=project, check=True)\n'
)


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (PULL, "", "not the first version"),
        (GIT, "", "not the first version"),
        ('["dvc", "pull"]', '["dvc", "checkout"]', "the command `dvc checkout` failed"),
        (CHECKOUT, '["git", "checkout", "--quiet", commit]', "HEAD is detached"),
        (GIT + PULL, WHOLE_AND_BACK, "data.dvc is not the first version's"),
        (CHECKOUT, '["git", "reset", "--hard", "--quiet", commit]', "back to an earlier commit"),
        (CHECKOUT, '["git", "checkout", commit, "--", "."]',
         "notes.md went back to the version of that commit"),
        (CHECKOUT, '["git", "checkout", "HEAD~1", "--", "data.dvc"]', "not the first version"),
        (GIT + PULL, PULL + GIT, "not the first version"),
        (PULL, PULL + '    subprocess.run(["git", "commit", "-qam", "restore"], cwd=project, '
         "check=True)\n", "restoring made a commit"),
        (GIT, '    run_tool(["git", "checkout", commit, "--", "data.dvc"], project)\n',
         "course's own `reproml_course.chapters.dvc.run_tool`"),
        (GIT, GIT.replace(", check=True", ""), "git has no such commit"),
        (PULL, PULL.replace(", check=True", ""), "could not fetch that version"),
    ],
    ids=["git only", "dvc only", "checkout without the cache", "whole commit",
         "whole commit and back", "reset", "every file", "previous commit", "pull first",
         "committed", "course's run_tool", "unchecked checkout", "unchecked pull"],
)  # fmt: skip
def test_a_wrong_restore_fails_10_2(evaluate, old, new, said):
    code = mutate(RESTORE, old, new)
    if "run_tool" in code:
        code = "from reproml_course.chapters.dvc import run_tool\n" + code
    passed, message = evaluate("10.2", define(code, "restore_data"))
    assert not passed and said in message, message


def test_variants_pass_10_2(evaluate):
    code = mutate(RESTORE, CHECKOUT, '["git", "restore", "--source", commit, "data.dvc"]')
    code = mutate(
        code, PULL, PULL.replace('"pull"', '"fetch"') + PULL.replace('"pull"', '"checkout"')
    )
    assert evaluate("10.2", define(code, "restore_data")) == (True, "passed")
