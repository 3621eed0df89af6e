"""Chapter 08's checks: a locked uv project made by the student's code (8.1), and what changed
between two locks (8.2). Both run real uv, offline, on the course's package folder, in a
temporary folder of their own."""

from __future__ import annotations

import contextlib
import random
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reproml.checks.base import CheckFailed, call, exercise, expect
from reproml.logs import environment, path_with_first
from reproml.uv_projects import (
    module_name,
    package_folder_environment,
    run_uv,
    uv_executable,
    write_demo_packages,
)

INIT = ("init", "--app", "--no-package", "--no-workspace")

# Requirements the check asks for: exact pins, ranges, a transitive package pinned too.
REQUIREMENT_SETS = [
    ["reproml-demo-greetings==1.0.0"],
    ["reproml-demo-greetings>=1.1,<2"],
    ["reproml-demo-greetings==2.0.0", "reproml-demo-units==0.9.0"],
    ["reproml-demo-units<1", "reproml-demo-colors==1.1.0"],
    ["reproml-demo-greetings<2", "reproml-demo-colors<1.2"],
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


def reference_lock(tmp: Path, requirements: list[str]) -> str:
    project = tmp / "reference"
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


@exercise("8.1", "a locked uv project", points=2)
def exercise_8_1(make_project: Any) -> None:
    """uv init --app --no-package --no-workspace FOLDER (a project that is not a package, and
    not a member of the project around it), then uv add REQUIREMENT... with cwd=FOLDER (or
    --directory FOLDER): uv add writes pyproject.toml, resolves, writes uv.lock and syncs .venv.
    subprocess.run([...], check=True) runs each command."""
    rng = random.Random()
    requirements = rng.choice(REQUIREMENT_SETS)
    with tempfile.TemporaryDirectory() as tmp_name, package_folder(Path(tmp_name)):
        tmp = Path(tmp_name)
        outer = tmp / "lab-project"
        run_uv(*INIT, str(outer), cwd=tmp)
        outer_pyproject = (outer / "pyproject.toml").read_text()
        target = outer / "experiments" / f"fmnist-{rng.randrange(1000):03d}"
        target.parent.mkdir()
        shown = f"make_project({target.name!r}, {requirements})"
        call(make_project, target, list(requirements), what=shown)
        _expect_project(target, outer, outer_pyproject, requirements)
        expected = locked_versions(reference_lock(tmp, requirements))
        _expect_lock(target, requirements, expected)
        _expect_runs(target, requirements, expected)


def _expect_project(target: Path, outer: Path, outer_pyproject: str, asked: list[str]) -> None:
    expect(
        (target / "pyproject.toml").is_file(),
        f"there is no project in the folder it was given (no {target.name}/pyproject.toml).",
        "uv init takes the folder to create the project in; `uv pip install` makes no project.",
    )
    expect(
        (outer / "pyproject.toml").read_text() == outer_pyproject
        and not (outer / "uv.lock").exists(),
        "the folder was inside another project, and uv made yours a member of that project's "
        "workspace (its pyproject.toml now lists yours, and the lock went to it).",
        "uv looks upward for a project to join; say that this one stands alone.",
    )
    dependencies = _dependencies(target / "pyproject.toml")
    for name, specifier in map(_specifier, asked):
        expect(
            name in dependencies,
            f"pyproject.toml does not list {name} in [project] dependencies.",
            "uv add writes the dependency there; `uv pip install` does not.",
        )
        expect(
            dependencies[name] == specifier,
            f"pyproject.toml asks for {name}{dependencies[name]}, not {name}{specifier} as asked.",
            "give uv add the whole requirement, with its version specifier (quoted in a shell).",
        )


def _expect_lock(target: Path, asked: list[str], expected: dict[str, str]) -> None:
    lock = target / "uv.lock"
    expect(
        lock.is_file(),
        "the project has no uv.lock.",
        "uv add locks as it adds; a pyproject.toml edited by hand needs `uv lock`.",
    )
    checked = subprocess.run(
        [uv_executable(), "lock", "--check"], cwd=target, capture_output=True, text=True
    )
    expect(
        checked.returncode == 0,
        "uv.lock is out of date: pyproject.toml asks for something the lock was not made from.",
        "change dependencies with uv add / uv remove, or run `uv lock` after editing by hand.",
    )
    got = locked_versions(lock.read_text())
    project = target.name
    wrong = {
        name: (got.get(name), version)
        for name, version in expected.items()
        if name != "reference" and got.get(name) != version
    }
    expect(
        not wrong,
        "the lock pins "
        + ", ".join(f"{n} {g or '(nothing)'} where uv resolves {v}" for n, (g, v) in wrong.items())
        + f" for {', '.join(asked)}.",
        "lock exactly the requirements given, nothing more, through uv itself.",
    )
    extra = sorted(set(got) - set(expected) - {project})
    expect(not extra, f"the lock also pins {', '.join(extra)}, which nothing asked for.")


def _expect_runs(target: Path, asked: list[str], expected: dict[str, str]) -> None:
    names = [_specifier(r)[0] for r in asked]
    code = "; ".join(f"import {module_name(n)}; print({module_name(n)}.__version__)" for n in names)
    done = subprocess.run(
        [uv_executable(), "run", "--frozen", "python", "-c", code],
        cwd=target, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    last = (done.stderr.strip().splitlines() or [""])[-1]
    expect(
        done.returncode == 0,
        f"`uv run --frozen python` in the project cannot import what it locked: {last}",
    )
    versions = done.stdout.split()
    expect(
        versions == [expected[n] for n in names],
        f"`uv run` imports versions {versions}, the lock pins {[expected[n] for n in names]}.",
    )


# One change that adds or removes a package (greetings 1.1 brings console, for Windows), then
# one or two that move versions.
APPEARING = [("add", "reproml-demo-greetings==1.1.0"), ("remove", "reproml-demo-units")]
MOVING = [
    ("add", "reproml-demo-greetings==2.0.0"),
    ("add", "reproml-demo-colors==1.1.0"),
    ("add", "reproml-demo-units==1.0.0"),
]


@exercise("8.2", "what changed between two locks", points=2)
def exercise_8_2(lock_changes: Any) -> None:
    """tomllib.loads(text)["package"] is a list of tables with "name" and "version"; make a
    dict name -> version for each lock, then go over the union of their names: a package only
    in the old lock was removed (new version None), only in the new one was added."""
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp_name, package_folder(Path(tmp_name)):
        tmp = Path(tmp_name)
        old = reference_lock(tmp, ["reproml-demo-greetings==1.0.0", "reproml-demo-units==0.9.0"])
        project = tmp / "reference"
        # the package that appears or disappears last, so that no later change undoes it
        for command, requirement in [*rng.sample(MOVING, rng.randint(1, 2)), rng.choice(APPEARING)]:
            run_uv(command, "--no-sync", requirement, cwd=project)
        new = (project / "uv.lock").read_text()
    for before, after, what in [(old, new, "the change"), (new, old, "the change undone")]:
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
    same = call(lock_changes, old, old, what="lock_changes(lock, lock)")
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
        "a package can also appear in or disappear from the lock: look at the names of both.",
    )
    extra = sorted(set(got) - set(expected))
    expect(
        not extra,
        f"on {what}, lock_changes reports {', '.join(extra)}, whose locked version did not change.",
    )
    for name, value in expected.items():
        if got[name] != value:
            raise CheckFailed(
                f"on {what}, {name} changed {_arrow(value)}; lock_changes says {got[name]!r}.",
                "(old version, new version), with None on the side where the package is absent.",
            )


def _arrow(change: tuple[str | None, str | None]) -> str:
    old, new = change
    if old is None:
        return f"(added, {new})"
    if new is None:
        return f"(removed, was {old})"
    return f"{old} -> {new}"
