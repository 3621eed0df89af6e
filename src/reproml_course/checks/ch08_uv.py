"""Chapter 08's checks: a locked uv project made by the student's code (8.1), and what changed
between two locks (8.2). Both run real uv, offline, on the course's package folder, in a
temporary folder of their own, on several cases drawn each time (one requirement and several;
a change of one package and of many, additions and removals, undone, and no change at all)."""

from __future__ import annotations

import contextlib
import random
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reproml.env import environment, path_with_first
from reproml_course.chapters.uv_projects import (
    module_name,
    package_folder_environment,
    run_uv,
    uv_executable,
    write_demo_packages,
)
from reproml_course.checks.base import CheckFailed, call, exercise, expect

INIT = ("init", "--app", "--no-package", "--no-workspace")

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


@contextlib.contextmanager
def package_folder(tmp: Path) -> Iterator[Path]:
    """The course's packages in ``tmp``, and uv pointed at them (for the student's code too)."""
    packages = write_demo_packages(tmp / "packages")
    uv_first = path_with_first(str(Path(uv_executable()).parent))
    values = {**package_folder_environment(packages), "VIRTUAL_ENV": None, "PATH": uv_first}
    with environment(values):
        yield packages


def locked_versions(lock_text: str) -> dict[str, str]:
    """name -> version of each package a uv.lock pins (the project itself included)."""
    return {p["name"]: p["version"] for p in tomllib.loads(lock_text).get("package", [])}


def reference_lock(tmp: Path, requirements: list[str], name: str = "reference") -> str:
    project = tmp / name
    run_uv(*INIT, str(project), cwd=tmp)
    run_uv("add", "--no-sync", *requirements, cwd=project)
    return (project / "uv.lock").read_text()


def _dependencies(pyproject: Path) -> dict[str, str]:
    from packaging.requirements import Requirement

    project = tomllib.loads(pyproject.read_text()).get("project", {})
    found = {}
    for line in project.get("dependencies", []):
        requirement = Requirement(line)
        found[requirement.name] = str(requirement.specifier)
    return found


def _specifier(requirement: str) -> tuple[str, str]:
    from packaging.requirements import Requirement

    parsed = Requirement(requirement)
    return parsed.name, str(parsed.specifier)


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


def _expect_project(target: Path, asked: list[str], shown: str) -> None:
    expect(
        (target / "pyproject.toml").is_file(),
        f"after {shown}, there is no project in the folder it was given (no "
        f"{target.name}/pyproject.toml).",
        "uv init takes the folder to create the project in; `uv pip install` makes no project.",
    )
    expect(
        "build-system" not in tomllib.loads((target / "pyproject.toml").read_text()),
        f"after {shown}, pyproject.toml has a [build-system]: uv made a package, to be built "
        "and installed with its requirements, where the exercise asks for an application.",
        "uv init --app --no-package: an application has nothing to build, so nothing to "
        "download to build it (this uv makes a package unless told otherwise).",
    )
    dependencies = _dependencies(target / "pyproject.toml")
    for name, specifier in map(_specifier, asked):
        expect(
            name in dependencies,
            f"after {shown}, pyproject.toml does not list {name} in [project] dependencies.",
            "every requirement given is a dependency of the project, added by uv add (a "
            "development group or `uv pip install` is not).",
        )
        expect(
            dependencies[name] == specifier,
            f"after {shown}, pyproject.toml asks for {name}{dependencies[name]}, not "
            f"{name}{specifier} as asked.",
            "give uv add the whole requirement, with its version specifier (quoted in a shell).",
        )


def _expect_lock(target: Path, asked: list[str], expected: dict[str, str], shown: str) -> None:
    lock = target / "uv.lock"
    expect(
        lock.is_file(),
        f"after {shown}, the project has no uv.lock.",
        "uv add locks as it adds; a pyproject.toml edited by hand needs `uv lock`.",
    )
    options = tomllib.loads(lock.read_text()).get("options", {})
    expect(
        not options.get("resolution-mode"),
        f"after {shown}, the lock was made with resolution mode "
        f"{options.get('resolution-mode')!r}, not uv's default (the highest versions allowed).",
        "lock exactly the requirements given, with uv's default resolution.",
    )
    checked = subprocess.run(
        [uv_executable(), "lock", "--check"], cwd=target, capture_output=True, text=True
    )
    expect(
        checked.returncode == 0,
        f"after {shown}, uv.lock is out of date: pyproject.toml asks for something the lock "
        "was not made from.",
        "change dependencies with uv add / uv remove, or run `uv lock` after editing by hand.",
    )
    got = locked_versions(lock.read_text())
    wrong = {
        name: (got.get(name), version)
        for name, version in expected.items()
        if not name.startswith("reference") and got.get(name) != version
    }
    expect(
        not wrong,
        f"after {shown}, the lock pins "
        + ", ".join(f"{n} {g or '(nothing)'} where uv resolves {v}" for n, (g, v) in wrong.items())
        + ".",
        "lock exactly the requirements given, nothing more, with uv's default resolution.",
    )
    dependencies = set(_dependencies(target / "pyproject.toml"))
    extra = sorted(dependencies - {_specifier(r)[0] for r in asked})
    expect(
        not extra,
        f"after {shown}, pyproject.toml also depends on {', '.join(extra)}, which nothing asked "
        "for.",
    )
    ours = {n for n in expected if not n.startswith("reference")}
    extra = sorted(set(got) - ours - {target.name})
    expect(
        not extra, f"after {shown}, the lock also pins {', '.join(extra)}, which nothing asked for."
    )


def _expect_runs(target: Path, asked: list[str], expected: dict[str, str], shown: str) -> None:
    """What the project's own .venv imports, as make_project left it: uv add installs what it
    locked, and the project is then ready to run (``uv add --no-sync``, or ``uv lock`` alone,
    leaves it without an environment)."""
    names = [_specifier(r)[0] for r in asked]
    code = "; ".join(f"import {module_name(n)}; print({module_name(n)}.__version__)" for n in names)
    expect(
        (target / ".venv").is_dir(),
        f"after {shown}, the project has no .venv: its requirements are locked but installed "
        "nowhere, so the project is not ready to run.",
        "uv add installs what it locks into the project's .venv (unless told --no-sync); after "
        "uv lock alone, uv sync does it.",
    )
    command = [uv_executable(), "run", "--frozen", "--no-sync"]
    done = subprocess.run(
        [*command, "python", "-c", code], cwd=target, capture_output=True, text=True, timeout=120
    )
    last = (done.stderr.strip().splitlines() or [""])[-1]
    where = "the project's .venv"
    expect(
        done.returncode == 0,
        f"after {shown}, {where} cannot import what the project locked: {last}",
        "let uv install what it locked (uv add does, uv sync too), not `uv pip install`.",
    )
    versions = done.stdout.split()
    locked = [expected[n] for n in names]
    expect(
        versions == locked,
        f"after {shown}, {where} holds versions {versions} of {', '.join(names)}; the lock "
        f"pins {locked}.",
        "let uv install what it locked (uv add does, uv sync too), not `uv pip install`.",
    )


# Changes to a lock: one that moves a single package's version, then several at once that
# move versions, add a package (greetings >= 1.1 brings console, for Windows) and remove one.
SINGLE_MOVES = [("add", "reproml-demo-colors==1.1.0"), ("add", "reproml-demo-units==1.0.0")]
GREETINGS_MOVES = [
    ("add", "reproml-demo-greetings==1.1.0"),
    ("add", "reproml-demo-greetings==2.0.0"),
]
REMOVAL = ("remove", "reproml-demo-units")


@exercise(
    "8.2",
    "what changed between two locks",
    points=2,
    course_answers=(
        "reproml_course.chapters.uv_projects.lock_entries",
        "reproml_course.chapters.uv_projects.lock_entry",
    ),
    budget=60,
)
def exercise_8_2(lock_changes: Any) -> None:
    """tomllib.loads(text)["package"] is a list of tables with "name" and "version"; make a
    dict name -> version for each lock, then go over the union of their names: a package only
    in the old lock was removed (new version None), only in the new one was added."""
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp_name, package_folder(Path(tmp_name)):
        tmp = Path(tmp_name)
        first = reference_lock(tmp, ["reproml-demo-greetings==1.0.0", "reproml-demo-units==0.9.0"])
        project = tmp / "reference"
        run_uv(*rng.choice(SINGLE_MOVES), "--no-sync", cwd=project)
        one_moved = (project / "uv.lock").read_text()
        for command, requirement in [rng.choice(GREETINGS_MOVES), REMOVAL]:
            run_uv(command, "--no-sync", requirement, cwd=project)
        many_moved = (project / "uv.lock").read_text()
    cases = [
        (first, one_moved, "a change of one package's version"),
        (one_moved, first, "that change undone"),
        (first, many_moved, "a change that moves, adds and removes packages"),
        (many_moved, first, "that change undone"),
        (one_moved, many_moved, "a change between the two new locks"),
    ]
    for before, after, what in cases:
        expected = _reference_changes(before, after)
        got = call(lock_changes, before, after, what=f"lock_changes(...) on {what}")
        expect(
            isinstance(got, dict),
            f"lock_changes returned a {type(got).__name__}, not a dict.",
            "name -> (old version, new version).",
        )
        got = {
            name: tuple(value) if isinstance(value, list) else value for name, value in got.items()
        }
        _expect_same_changes(got, expected, what)
    for lock in (first, many_moved):
        same = call(lock_changes, lock, lock, what="lock_changes(lock, lock)")
        expect(same == {}, f"two identical locks gave {same!r}, not an empty dict.")


def _reference_changes(old: str, new: str) -> dict[str, tuple[str | None, str | None]]:
    before, after = locked_versions(old), locked_versions(new)
    return {
        name: (before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }


def _expect_same_changes(got: dict, expected: dict, what: str) -> None:
    missing = {n: v for n, v in expected.items() if n not in got}
    expect(
        not missing,
        f"on {what}, lock_changes missed "
        + ", ".join(f"{n} {_arrow(v)}" for n, v in missing.items())
        + ".",
        "a package can also appear in or disappear from the lock: look at the names of both, "
        "and match packages by name, not by position.",
    )
    extra = sorted(set(got) - set(expected), key=str)
    expect(
        not extra,
        f"on {what}, lock_changes reports {', '.join(map(str, extra))}, whose locked version "
        "did not change.",
        "report a package only when its version differs between the two locks.",
    )
    for name, value in expected.items():
        if got[name] != value:
            raise CheckFailed(
                f"on {what}, {name} changed {_arrow(value)}; lock_changes says {got[name]!r}.",
                "(old version, new version) as the lock writes them, with None on the side "
                "where the package is absent.",
            )


def _arrow(change: tuple[str | None, str | None]) -> str:
    old, new = change
    if old is None:
        return f"(added, {new})"
    if new is None:
        return f"(removed, was {old})"
    return f"{old} -> {new}"
