"""What exercise 8.1's project must hold once the student's code made it: the requirements
in its pyproject.toml as asked, a lock that resolves them as uv itself does, and a .venv,
installed from that lock, in which each package imports at its locked version."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from reproml_course.chapters.uv_projects import module_name, uv_executable
from reproml_course.checks.base import expect
from reproml_course.checks.ch08_reference import locked_versions


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
