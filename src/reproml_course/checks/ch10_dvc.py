"""Chapter 10's checks: a new version of the data, committed and pushed (10.1), and an earlier
version restored (10.2). Each runs real git and DVC in a project of its own (a temporary
folder, a local remote) and compares the files' sha256 digests, version by version, then the
repository around them: the history (a new commit on top of the old ones), what the commit
holds, the branch, the pointer file, and the work in progress that was not committed.

Here is 10.1; 10.2 is ``ch10_restore``'s, the project both build on ``ch10_project``'s."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.chapters.dvc import file_digests, use_dvc
from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch10_project import (
    COURSE_ANSWERS,
    DRAFT,
    _break_remote,
    _change_data,
    _difference,
    _expect_failure_raises,
    _fresh_clone,
    _git,
    _git_ok,
    _project,
)


@exercise(
    "10.1",
    "version a change of the data",
    points=2,
    course_answers=COURSE_ANSWERS,
    budget=120,
)
def exercise_10_1(version_data: Any) -> None:
    """dvc add data (hashes the folder into DVC's cache, writes data.dvc); git add data.dvc
    .gitignore; git commit -m ...; dvc push (copies the cache to the remote); git rev-parse
    HEAD gives the commit. subprocess.run([...], cwd=project, check=True) runs each."""
    use_dvc()
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project = _project(tmp, rng)
        before = _git(project, "rev-parse", "HEAD")
        _change_data(project, rng)
        wanted = file_digests(project / "data")
        # work in progress the data's commit must leave alone: a script edited, a new file
        draft = (project / "train.py").read_text() + DRAFT
        (project / "train.py").write_text(draft)
        (project / "scratch.py").write_text("print('trying things')\n")
        message = f"data: labels fixed ({rng.randrange(1000)})"
        commit = call(version_data, project, message, what=f"version_data(project, {message!r})")
        _expect_new_commit(project, before, message, commit)
        _expect_commit_holds_the_pointer(project, before, draft)
        expect(
            file_digests(project / "data") == wanted,
            "the data folder changed: it is no longer the version that was to be recorded.",
            "record the data as it is; change nothing in it.",
        )
        _expect_clone_gets(tmp, project, wanted)
        # The remote out of reach (a network drive gone): `dvc push` fails, and so must
        # version_data, rather than return a version that nobody can fetch.
        _break_remote(project, tmp)
        _change_data(project, rng)
        _expect_failure_raises(
            version_data, project, "data: more images",
            "though `dvc push` could not reach the remote: the version it committed is on no "
            "remote",
        )  # fmt: skip


def _expect_new_commit(project: Path, before: str, message: str, commit: Any) -> None:
    head = _git(project, "rev-parse", "HEAD")
    expect(
        head != before,
        "there is no new commit: git still points at the first version.",
        "DVC writes the pointer file; git keeps its history only once it is committed.",
    )
    expect(
        _git_ok(project, "merge-base", "--is-ancestor", before, head),
        "the new commit replaced the previous one instead of following it (as `git commit "
        "--amend` does): the first version is no longer in the history.",
        "each version of the data is a commit of its own, on top of the ones before.",
    )
    expect(
        _git_ok(project, "symbolic-ref", "-q", "HEAD"),
        "git's HEAD is detached: the new commit is on no branch.",
        "commit on the branch the project is on.",
    )
    subject = _git(project, "log", "-1", "--format=%s")
    expect(
        subject == message,
        f"the new commit's message is {subject!r}, not {message!r}.",
        "commit with the message version_data is given.",
    )
    expect(
        commit != before,
        "version_data returned the previous commit's hash, not the new commit's.",
        "ask git which commit HEAD is once the new one is made.",
    )
    if isinstance(commit, str) and commit != head:
        expect(
            commit.strip() != head,
            f"version_data returned {commit!r}: the hash with the line break the command "
            "printed after it.",
            "strip the command's output.",
        )
        expect(
            not (len(commit) >= 4 and head.startswith(commit)),
            f"version_data returned {commit!r}, an abbreviation of the new commit's hash.",
            "return the whole hash, as `git rev-parse HEAD` prints it.",
        )
    expect(commit == head, f"version_data returned {commit!r}, not the new commit ({head}).")


def _expect_commit_holds_the_pointer(project: Path, before: str, draft: str) -> None:
    expect(
        not _git(project, "ls-files", "data"),
        "the data files themselves were committed to git.",
        "git keeps the small pointer file; the data goes to DVC's cache and remote.",
    )
    changed = _git(project, "status", "--porcelain", "data.dvc")
    expect(
        not changed,
        "data.dvc has changes that were not committed: the commit does not name the new version.",
        "hash the data before committing the pointer file.",
    )
    committed = set(_git(project, "diff", "--name-only", before, "HEAD").split())
    others = sorted(committed - {"data.dvc", ".gitignore"})
    expect(
        not others,
        f"the data's commit also records {', '.join(others)}: work in progress that has "
        "nothing to do with the data.",
        "stage the pointer file and .gitignore by name, not everything that changed.",
    )
    expect(
        "data.dvc" in committed,
        "the new commit does not change data.dvc: it names the same version as before.",
        "hash the data before committing the pointer file.",
    )
    expect(
        (project / "train.py").read_text() == draft and (project / "scratch.py").is_file(),
        "work in progress in the project (an edited train.py, a new scratch.py) was lost.",
        "versioning the data touches the data and its pointer file only.",
    )


def _expect_clone_gets(tmp: Path, project: Path, wanted: dict[str, str]) -> None:
    """A colleague's fresh clone: git clone, dvc pull, then the same files."""
    try:
        clone = _fresh_clone(project, tmp / "colleague")
    except Exception as error:
        raise CheckFailed(
            f"a fresh clone of the project cannot get the data: {error}",
            "the remote only has what was pushed to it.",
        ) from None
    got = file_digests(clone / "data")
    expect(
        got == wanted,
        "a fresh clone pulls a data folder that differs from the one versioned "
        f"({_difference(got, wanted)}).",
        "push after hashing the new version, and commit the pointer file that names it.",
    )
