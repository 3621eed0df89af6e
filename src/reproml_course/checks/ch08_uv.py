"""Chapter 08's check of a locked uv project made by the student's code (8.1). It runs real
uv, offline, on the course's package folder, in a temporary folder of its own, on several cases
drawn each time (one requirement and several, requirements no version satisfies together, a
folder that already holds a project); what the project must hold is ``ch08_locked_project``'s.
Exercise 8.2 (what changed between two locks) is ``ch08_lock_changes``'s."""

from __future__ import annotations

import random
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from reproml_course.chapters.uv_projects import run_uv
from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch08_locked_project import _expect_lock, _expect_project, _expect_runs
from reproml_course.checks.ch08_reference import (
    INIT,
    locked_versions,
    package_folder,
    reference_lock,
)

# Requirements the check asks for, by how many there are: exact pins, ranges (where uv's
# highest resolution and the lowest differ), a transitive package pinned too. Each run of the
# check draws one list of each size, so that an answer that adds only the first requirement,
# or all of them as one word, fails every time.
REQUIREMENT_SETS = {
    1: [
        ["reproml-demo-greetings==1.0.0"],
        ["reproml-demo-greetings>=1.1,<2"],
        ["reproml-demo-colors<1.2"],
        ["reproml-demo-units>=0.9"],
    ],
    2: [
        ["reproml-demo-greetings==2.0.0", "reproml-demo-units==0.9.0"],
        ["reproml-demo-units<1", "reproml-demo-colors==1.1.0"],
        ["reproml-demo-greetings<2", "reproml-demo-colors<1.2"],
    ],
    3: [
        ["reproml-demo-colors==1.1.0", "reproml-demo-greetings<2", "reproml-demo-units>=0.9"],
        ["reproml-demo-units==1.0.0", "reproml-demo-greetings>=1.1", "reproml-demo-colors<1.2"],
        ["reproml-demo-greetings~=1.0", "reproml-demo-units<1", "reproml-demo-colors>=1.1"],
    ],
}


# Requirements no version satisfies together (greetings 2.0 needs colors >= 1.1; units has no
# 2.0): uv add fails on them, and make_project must say so.
CONFLICTING = [
    ["reproml-demo-greetings==2.0.0", "reproml-demo-colors==1.0.0"],
    ["reproml-demo-colors<1.2", "reproml-demo-units==2.0.0"],
]


@exercise(
    "8.1",
    "a locked uv project",
    points=2,
    course_answers=("reproml_course.chapters.uv_projects.run_uv",),
    budget=60,
)
def exercise_8_1(make_project: Any) -> None:
    """uv init --app --no-package --no-workspace FOLDER (a project that is not a package, and
    not a member of the project around it), then uv add REQUIREMENT... with cwd=FOLDER (or
    --directory FOLDER): uv add writes pyproject.toml, resolves, writes uv.lock and syncs .venv.
    subprocess.run([...], check=True) runs each command."""
    rng = random.Random()
    cases = [list(rng.choice(sets)) for sets in REQUIREMENT_SETS.values()]
    rng.shuffle(cases)
    with tempfile.TemporaryDirectory() as tmp_name, package_folder(Path(tmp_name)):
        tmp = Path(tmp_name)
        outer = tmp / "lab-project"
        run_uv(*INIT, str(outer), cwd=tmp)
        outer_pyproject = (outer / "pyproject.toml").read_text()
        (outer / "experiments").mkdir()
        for number, requirements in enumerate(cases):
            target = outer / "experiments" / f"fmnist-{rng.randrange(1000):03d}-{number}"
            shown = f"make_project({target.name!r}, {requirements})"
            call(make_project, target, list(requirements), what=shown)
            _expect_outer_untouched(outer, outer_pyproject, shown)
            _expect_project(target, requirements, shown)
            expected = locked_versions(reference_lock(tmp, requirements, f"reference-{number}"))
            _expect_lock(target, requirements, expected, shown)
            _expect_runs(target, requirements, expected, shown)
        conflicting = list(rng.choice(CONFLICTING))
        target = outer / "experiments" / f"fmnist-{rng.randrange(1000):03d}-conflict"
        _expect_failure_raises(make_project, target, conflicting)
        taken = outer / "experiments" / f"fmnist-{rng.randrange(1000):03d}-taken"
        run_uv(*INIT, str(taken), cwd=tmp)
        _expect_init_failure_raises(make_project, taken, list(rng.choice(REQUIREMENT_SETS[1])))


def _expect_failure_raises(make_project: Any, target: Path, requirements: list[str]) -> None:
    """Requirements no version satisfies: uv add fails, and so must make_project (a project
    left without them, silently, is found out much later)."""
    try:
        make_project(target, list(requirements))
    except (Exception, SystemExit):
        return
    raise CheckFailed(
        f"make_project({target.name!r}, {requirements}) returned as if all went well, though "
        "uv cannot add these requirements (no version satisfies them together): the failed "
        "command went unnoticed.",
        "subprocess.run does not raise when the command fails, unless it is told to.",
    )


def _expect_init_failure_raises(make_project: Any, target: Path, requirements: list[str]) -> None:
    """A folder that already holds a project: uv init refuses it, and make_project must stop
    there, not go on and add the requirements to a project it did not make."""
    before = (target / "pyproject.toml").read_text()
    try:
        make_project(target, list(requirements))
    except (Exception, SystemExit):
        raised = True
    else:
        raised = False
    changed = (target / "pyproject.toml").read_text() != before
    expect(
        raised and not changed,
        f"make_project({target.name!r}, {requirements}), on a folder that already holds a uv "
        "project, "
        + ("returned as if all went well" if not raised else "failed")
        + (", after adding the requirements to that project" if changed else "")
        + ": uv init refused the folder (pyproject.toml already exists), and the failed "
        "command went unnoticed.",
        "subprocess.run does not raise when the command fails, unless it is told to: "
        "check=True on every command, uv init included.",
    )


def _expect_outer_untouched(outer: Path, outer_pyproject: str, shown: str) -> None:
    now = (outer / "pyproject.toml").read_text()
    if now == outer_pyproject and not (outer / "uv.lock").exists():
        return
    settings = tomllib.loads(now)
    if settings.get("tool", {}).get("uv", {}).get("workspace"):
        raise CheckFailed(
            f"after {shown}, the folder was inside another project, and uv made yours a "
            "member of that project's workspace (its pyproject.toml now lists yours, and the "
            "lock went to it).",
            "uv looks upward for a project to join; say that this one stands alone.",
        )
    if settings.get("project", {}).get("dependencies"):
        raise CheckFailed(
            f"after {shown}, the requirements were added to the project around the folder, "
            "not to the new project: uv add ran outside it.",
            "uv add changes the project of the folder it runs in: run it in the new project.",
        )
    raise CheckFailed(
        f"after {shown}, the project around the folder changed (its pyproject.toml or lock).",
        "make and lock the new project only: uv add in its folder, nowhere else.",
    )
