"""Chapter 10's check of an earlier version of the data restored (10.2), in the project
and in a colleague's fresh clone whose cache holds only the latest version: the data folder is
that version's again, byte for byte, with git's HEAD on its branch, the branch where it was and
the work in progress that was not committed kept; a commit that does not exist, or a remote
out of reach, must make the student's function fail."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.chapters.dvc import file_digests, run_tool, use_dvc
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
    _reference_version,
    _show,
)


@exercise(
    "10.2",
    "restore an earlier version of the data",
    points=2,
    course_answers=COURSE_ANSWERS,
    budget=180,
)
def exercise_10_2(restore_data: Any) -> None:
    """`git checkout COMMIT -- data.dvc` brings back the pointer file alone (not the whole
    commit); `dvc checkout` puts the data it names in place from the cache, `dvc pull` also
    fetches it from the remote first (a fresh clone has no cache)."""
    use_dvc()
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project = _project(tmp, rng)
        versions = [(_git(project, "rev-parse", "HEAD"), file_digests(project / "data"))]
        for note in ("Labels fixed.", "More images."):
            _change_data(project, rng)
            (project / "notes.md").write_text(f"# Notes\n{note}\n")
            commit = _reference_version(project, f"data: {note.lower()}")
            versions.append((commit, file_digests(project / "data")))
        # The first version in the project (two commits back); then, in a colleague's fresh
        # clone, whose cache holds only the latest version, the second (one commit back).
        clone = _fresh_clone(project, tmp / "colleague")
        for folder, (commit, digests), where, ordinal in (
            (project, versions[0], "in the project", "first"),
            (clone, versions[1], "in a fresh clone (DVC's cache had only the latest)", "second"),
        ):
            draft = (folder / "train.py").read_text() + DRAFT
            (folder / "train.py").write_text(draft)
            shown = f"restore_data({'project' if folder == project else 'clone'}, {ordinal})"
            call(restore_data, folder, commit, what=shown)
            _expect_restored(folder, commit, digests, versions[-1][0], draft, where, ordinal)
        # A commit that does not exist (a typo), then a version the clone's cache lacks with
        # the remote out of reach: a command fails, and so must restore_data.
        missing = "".join(rng.choice("0123456789abcdef") for _ in range(40))
        _expect_failure_raises(
            restore_data, project, missing, "though git has no such commit"
        )  # fmt: skip
        _break_remote(clone, tmp)
        _expect_failure_raises(
            restore_data, clone, versions[0][0],
            "though `dvc pull` could not fetch that version (the remote was out of reach, the "
            "cache did not have it)",
        )  # fmt: skip


def _expect_restored(
    project: Path,
    commit: str,
    digests: dict[str, str],
    head: str,
    draft: str,
    where: str,
    ordinal: str,
) -> None:
    got = file_digests(project / "data")
    expect(
        got == digests,
        f"{where}, the data folder is not the {ordinal} version ({_difference(got, digests)}).",
        "bring back the pointer file of the commit given (it names the version), then let DVC "
        "put the files it names in place.",
    )
    now = _git(project, "rev-parse", "HEAD")
    on_branch = _git_ok(project, "symbolic-ref", "-q", "HEAD")
    expect(
        on_branch,
        f"{where}, git's HEAD is detached at "
        + ("that commit" if now == commit else f"commit {now[:10]}")
        + ": the whole commit was checked out, not only the data's pointer file.",
        "check out the pointer file alone, from that commit.",
    )
    if now != head:
        went_back = _git_ok(project, "merge-base", "--is-ancestor", now, head)
        raise CheckFailed(
            f"{where}, the branch moved "
            + ("back to an earlier commit (as `git reset` does): the later commits are no "
               "longer on it." if went_back else "on to a new commit: restoring made a commit.")
            + "",
            "restoring the data changes files, not the history: check out the pointer file "
            "alone, and leave committing to the user.",
        )  # fmt: skip
    notes = (project / "notes.md").read_text()
    expect(
        notes == _show(project, head, "notes.md"),
        f"{where}, notes.md "
        + ("went back to the version of that commit"
           if notes == _show(project, commit, "notes.md") else "changed")
        + ": only the data should have.",
        "check out the pointer file alone, from that commit.",
    )  # fmt: skip
    expect(
        (project / "train.py").read_text() == draft,
        f"{where}, the uncommitted change to train.py is gone.",
        "bring back the pointer file alone: checking out every file, or resetting, throws away "
        "work that was not committed.",
    )
    pointer = (project / "data.dvc").read_text()
    expect(
        pointer == _show(project, commit, "data.dvc"),
        f"{where}, data.dvc is not the {ordinal} version's: the folder holds that version, but "
        "the pointer file names another, so the next `dvc status` or `dvc add` sees a change.",
        "bring back that commit's data.dvc and leave it in place: the pointer file and the "
        "folder go together.",
    )
    changed = {
        line[3:] for line in run_tool(["git", "status", "--porcelain"], project).splitlines()
    }
    others = sorted(changed - {"data.dvc", "train.py"})
    expect(
        not others,
        f"{where}, restoring also changed {', '.join(others)}.",
        "check out the pointer file alone, from that commit.",
    )
