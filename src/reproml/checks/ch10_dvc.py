"""Chapter 10's checks: a new version of the data, committed and pushed (10.1), and an earlier
version restored (10.2). Each runs real git and DVC in a project of its own (a temporary
folder, a local remote) and compares the files' sha256 digests, version by version."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.data_versions import file_digests, new_project, run_tool, use_dvc


def _make_data(folder: Path, rng: random.Random) -> None:
    """A small data folder: two "splits" of random bytes (DVC does not care what they hold)."""
    for name, size in (("train.bin", 3000), ("labels.bin", 300)):
        path = folder / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))


def _change_data(folder: Path, rng: random.Random) -> None:
    """Labels fixed, and a new file of extra images: a changed file and an added one."""
    labels = bytearray((folder / "data" / "labels.bin").read_bytes())
    for position in rng.sample(range(len(labels)), 10):
        labels[position] = (labels[position] + 1) % 256
    (folder / "data" / "labels.bin").write_bytes(bytes(labels))
    (folder / "data" / f"extra-{rng.randrange(100)}.bin").write_bytes(rng.randbytes(500))


def _reference_version(project: Path, message: str) -> str:
    run_tool(["dvc", "add", "data"], project)
    run_tool(["git", "add", "data.dvc", ".gitignore", "notes.md"], project)
    run_tool(["git", "commit", "--quiet", "-m", message], project)
    run_tool(["dvc", "push"], project)
    return _git(project, "rev-parse", "HEAD")


def _git(project: Path, *args: str) -> str:
    return run_tool(["git", *args], project).strip()


def _project(tmp: Path, rng: random.Random) -> Path:
    project = new_project(tmp / "project", tmp / "remote")
    _make_data(project, rng)
    (project / "notes.md").write_text("# Notes\nFirst version of the data.\n")
    _reference_version(project, "data: first version")
    return project


@exercise("10.1", "version a change of the data", points=2)
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
        message = f"data: labels fixed ({rng.randrange(1000)})"
        commit = call(version_data, project, message, what=f"version_data(project, {message!r})")
        head = _git(project, "rev-parse", "HEAD")
        expect(
            head != before,
            "there is no new commit: git still points at the first version.",
            "DVC writes the pointer file; git keeps its history only once it is committed.",
        )
        expect(
            _git(project, "log", "-1", "--format=%s") == message,
            f"the new commit's message is {_git(project, 'log', '-1', '--format=%s')!r}, not "
            f"{message!r}.",
        )
        expect(commit == head, f"version_data returned {commit!r}, not the new commit ({head}).")
        expect(
            not _git(project, "ls-files", "data"),
            "the data files themselves were committed to git.",
            "git keeps the small pointer file; the data goes to DVC's cache and remote.",
        )
        changed = _git(project, "status", "--porcelain", "data.dvc")
        expect(
            not changed,
            "data.dvc has changes that were not committed: the commit does not name the new "
            "version.",
            "hash the data before committing the pointer file.",
        )
        _expect_clone_gets(tmp, project, wanted)


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


@exercise("10.2", "restore an earlier version of the data", points=2)
def exercise_10_2(restore_data: Any) -> None:
    """`git checkout COMMIT -- data.dvc` brings back the pointer file alone (not the whole
    commit); `dvc checkout` puts the data it names in place from the cache, `dvc pull` also
    fetches it from the remote first (a fresh clone has no cache)."""
    use_dvc()
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project = _project(tmp, rng)
        first = _git(project, "rev-parse", "HEAD")
        old = file_digests(project / "data")
        _change_data(project, rng)
        (project / "notes.md").write_text("# Notes\nLabels fixed.\n")
        second = _reference_version(project, "data: labels fixed")
        call(restore_data, project, first, what="restore_data(project, first)")
        _expect_restored(project, old, second, "in the project")
        # A colleague's fresh clone holds only the latest version: the old one is on the remote.
        clone = _fresh_clone(project, tmp / "colleague")
        call(restore_data, clone, first, what="restore_data(clone, first) in a fresh clone")
        _expect_restored(clone, old, second, "in a fresh clone (DVC's cache had only the latest)")


def _expect_restored(project: Path, old: dict[str, str], head: str, where: str) -> None:
    got = file_digests(project / "data")
    expect(
        got == old,
        f"{where}, the data folder is not the first version ({_difference(got, old)}).",
        "the pointer file names a version; DVC puts its files in place.",
    )
    expect(
        _git(project, "rev-parse", "HEAD") == head
        and (project / "notes.md").read_text().endswith("Labels fixed.\n"),
        f"{where}, the whole project went back to the first commit (notes.md too), not only "
        "the data.",
        "check out the pointer file alone, from that commit.",
    )
