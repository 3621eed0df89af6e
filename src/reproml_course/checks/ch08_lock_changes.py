"""Chapter 08's check of what changed between two locks (8.2): real locks made by uv,
offline, on the course's package folder, before and after a change drawn each time (one
package moved and many, additions and removals, undone, and no change at all), compared with
what the reference reads from them."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from reproml_course.chapters.uv_projects import run_uv
from reproml_course.checks.base import CheckFailed, call, exercise, expect
from reproml_course.checks.ch08_reference import locked_versions, package_folder, reference_lock

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
