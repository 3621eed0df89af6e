"""What both of chapter 10's checks build on: a project of their own (a temporary folder,
git, DVC and a local remote) holding a small data folder of random bytes, the reference
version of it, changes to the data, git read back, a remote made unreachable, and a fresh
clone whose files are compared with a version's by their sha256 digests."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

from reproml_course.chapters.dvc import new_project, run_tool
from reproml_course.checks.base import CheckFailed

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
