"""What the last ``reproml-course build`` read and wrote, as digests, in
``notebooks/.build-manifest.json``.

``build --check`` (CI, and a pre-commit habit) then answers "up to date" from digests alone when
no solution, student notebook, README or piece of the builder has changed since, without
importing nbconvert, nbgrader and jsonschema (about 3 s on 2 cores, most of what the check
took). Any difference, a hand edit of a student notebook included, sends it to the full
comparison, which regenerates every notebook in memory.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from reproml_course.authoring.launch import generated_blocks, repository_url

MANIFEST = ".build-manifest.json"
GUIDE = "docs/instructor.md"  # translated, like the README, into docs/instructor.<language>.md
BUILDER = (  # in reproml_course/
    "authoring/build.py",
    "authoring/launch.py",
    "base/notebooks.py",
    "authoring/translation.py",
    "authoring/translation_catalogs.py",
    "authoring/build_translations.py",
)
PACKAGES = ("nbgrader", "nbconvert", "nbformat", "babel")  # their output is in the notebooks


def build_state(solutions: Path, notebooks: Path, readme: Path | None) -> dict[str, object]:
    """Digests of everything a build reads and writes, and of the code that builds."""
    files = {f"solutions/{p.name}": _digest(p.read_bytes()) for p in _notebooks(solutions)}
    files |= {f"notebooks/{p.name}": _digest(p.read_bytes()) for p in _notebooks(notebooks)}
    # The translations: each language's catalogs, solutions and student notebooks.
    for folder, name in [(solutions.parent / "locale", "locale"), (solutions, "solutions"),
                         (notebooks, "notebooks")]:  # fmt: skip
        for path in sorted(folder.glob("*/*.po")) + sorted(folder.glob("*/*.ipynb")):
            relative = path.relative_to(folder).as_posix()
            files[f"{name}/{relative}"] = _digest(path.read_bytes())
    for path in sorted(solutions.parent.glob("README.*.md")):  # README.fr.md
        files[path.name] = _digest(path.read_bytes())
    locale = solutions.parent / "locale"
    if readme is not None and readme.is_file():
        # What build writes in the README (its marked blocks); and, where a catalog translates
        # the README, every sentence (README.<language>.md is made from all of it).
        text = readme.read_text(encoding="utf-8")
        translated = any(locale.glob(f"*/{readme.stem}.po"))
        whole = text if translated else "\n".join(generated_blocks(text))
        files["README.md"] = _digest(whole.encode())
    guide = solutions.parent / GUIDE
    if guide.is_file() and any(locale.glob(f"*/{guide.stem}.po")):  # docs/instructor.<lang>.md
        files[GUIDE] = _digest(guide.read_bytes())
        for path in sorted(guide.parent.glob(f"{guide.stem}.*.md")):
            files[f"docs/{path.name}"] = _digest(path.read_bytes())
    here = Path(__file__).parents[1]
    builder = hashlib.sha256()
    for name in BUILDER:
        builder.update((here / name).read_bytes())
    builder.update(repository_url().encode())  # the badges link to it
    for package in PACKAGES:
        try:
            builder.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            builder.update(f"{package} missing".encode())
    return {"builder": builder.hexdigest(), "files": files}


def unchanged_since_build(solutions: Path, notebooks: Path, readme: Path | None) -> bool:
    try:
        recorded = json.loads((notebooks / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded == build_state(solutions, notebooks, readme)


def record_build(solutions: Path, notebooks: Path, readme: Path | None) -> None:
    state = build_state(solutions, notebooks, readme)
    (notebooks / MANIFEST).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")


def _notebooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ipynb")) if folder.is_dir() else []


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
