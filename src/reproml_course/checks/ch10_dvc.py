"""Chapter 10's checks: a new version of the data, committed and pushed (10.1), and an earlier
version restored (10.2). Each runs real git and DVC in a project of its own (a temporary
folder, a local remote) and compares the files' sha256 digests, version by version, then the
repository around them: the history (a new commit on top of the old ones), what the commit
holds, the branch, the pointer file, and the work in progress that was not committed."""

from __future__ import annotations

import random
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.chapters.dvc import file_digests, new_project, run_tool, use_dvc
from reproml_course.checks.base import CheckFailed, call, exercise, expect

COURSE_ANSWERS = ("reproml_course.chapters.dvc.run_tool",)
DRAFT = "\n# work in progress, not committed yet\nEPOCHS = 3\n"


def _make_data(folder: Path, rng: random.Random) -> None:
    """A small data folder: "splits" of random bytes (DVC does not care what they hold), one
    of them in a subfolder."""
    for name, size in (("train.bin", 3000), ("labels.bin", 300), ("extra/notes.txt", 200)):
        path = folder / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))


def _change_data(folder: Path, rng: random.Random) -> None:
    """Labels fixed, a new file of extra images, one file gone: a changed, an added and a
    removed file."""
    labels = bytearray((folder / "data" / "labels.bin").read_bytes())
    for position in rng.sample(range(len(labels)), 10):
        labels[position] = (labels[position] + 1) % 256
    (folder / "data" / "labels.bin").write_bytes(bytes(labels))
    (folder / "data" / f"extra-{rng.randrange(100_000)}.bin").write_bytes(rng.randbytes(500))
    gone = sorted(p for p in (folder / "data").rglob("*") if p.is_file() and p.suffix != ".bin")
    if gone:
        gone[0].unlink()


def _reference_version(project: Path, message: str) -> str:
    run_tool(["dvc", "add", "data"], project)
    run_tool(["git", "add", "data.dvc", ".gitignore", "notes.md", "train.py"], project)
    run_tool(["git", "commit", "--quiet", "-m", message], project)
    run_tool(["dvc", "push"], project)
    return _git(project, "rev-parse", "HEAD")


def _git(project: Path, *args: str) -> str:
    return run_tool(["git", *args], project).strip()


def _show(project: Path, commit: str, path: str) -> str:
    """A file as ``commit`` holds it, byte for byte."""
    return run_tool(["git", "show", f"{commit}:{path}"], project)


def _git_ok(project: Path, *args: str) -> bool:
    return subprocess.run(["git", *args], cwd=project, capture_output=True).returncode == 0


def _project(tmp: Path, rng: random.Random) -> Path:
    project = new_project(tmp / "project", tmp / "remote")
    _make_data(project, rng)
    (project / "notes.md").write_text("# Notes\nFirst version of the data.\n")
    (project / "train.py").write_text('"""Trains on data/."""\n\nEPOCHS = 2\n')
    _reference_version(project, "data: first version")
    return project


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


def _break_remote(project: Path, tmp: Path) -> None:
    """The project's remote, from now on, a folder that cannot be: one inside a file."""
    blocker = tmp / "unreachable"
    blocker.write_text("not a folder\n")
    run_tool(["dvc", "remote", "modify", "--local", "storage", "url", str(blocker / "remote")],
             project)  # fmt: skip


def _expect_failure_raises(function: Any, project: Path, argument: str, why: str) -> None:
    """A command of the student's function fails: so must the function, loudly."""
    name = getattr(function, "__name__", "the function")
    try:
        function(project, argument)
    except (Exception, SystemExit):
        return
    raise CheckFailed(
        f"{name}(..., {argument!r}) returned as if all went well, {why}: the failed command "
        "went unnoticed.",
        "subprocess.run does not raise when the command fails, unless it is told to.",
    )


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


def _fresh_clone(project: Path, clone: Path) -> Path:
    """What a colleague does: git clone, then dvc pull."""
    run_tool(["git", "clone", "--quiet", str(project), str(clone)], project.parent)
    run_tool(["dvc", "pull"], clone)
    return clone


def _difference(got: dict[str, str], wanted: dict[str, str]) -> str:
    missing = sorted(set(wanted) - set(got))
    extra = sorted(set(got) - set(wanted))
    changed = sorted(n for n in set(got) & set(wanted) if got[n] != wanted[n])
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing", missing), ("unexpected", extra), ("different", changed))
        if names
    ]
    return "; ".join(parts)


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
