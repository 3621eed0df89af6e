"""The README's layout lists every module of both packages, one line each, and no module that
is gone: it cannot drift from src/."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listed_modules() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- layout -->\n```\n(.*?)```\n<!-- end layout -->", readme, re.S)
    assert block, "the README lost its layout block"
    return [line.split()[0] for line in block[1].splitlines() if line.strip()]


def test_the_readme_lists_each_module_once():
    modules = sorted(
        path.relative_to(ROOT / "src").as_posix()
        for package in ("reproml", "reproml_course")
        for path in (ROOT / "src" / package).rglob("*.py")
        if path.name != "__init__.py"
    )
    listed = listed_modules()
    assert sorted(listed) == modules
    assert len(set(listed)) == len(listed)


def test_each_line_says_what_its_module_is():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- layout -->\n```\n(.*?)```", readme, re.S)[1]
    assert all(len(line.split(maxsplit=1)) == 2 for line in block.splitlines() if line.strip())


# Modules over LIMIT lines, each at most its length today: the list only shrinks (issue 25
# splits the checks one module per exercise). A module not listed stays under the limit.
LIMIT = 250
TOO_LONG = {}


def test_modules_stay_short():
    lengths = {
        path.relative_to(ROOT / "src").as_posix(): len(path.read_text().splitlines())
        for package in ("reproml", "reproml_course")
        for path in (ROOT / "src" / package).rglob("*.py")
    }
    too_long = {name: n for name, n in sorted(lengths.items()) if n > TOO_LONG.get(name, LIMIT)}
    assert too_long == {}, "split these modules (or shorten them)"
    shrunk = [name for name, n in TOO_LONG.items() if lengths.get(name, 0) <= LIMIT]
    assert shrunk == [], "under the limit now: take them off TOO_LONG"


def test_the_citation_and_the_licences_match_the_project():
    """CITATION.cff is read by GitHub and Zenodo: its version and address must be the package's."""
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == project["version"]
    assert citation["repository-code"] == project["urls"]["Repository"]
    assert citation["license"] == [project["license"], "CC-BY-4.0"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    legal_code = (ROOT / "LICENSE-CC-BY-4.0.txt").read_text()
    assert legal_code.startswith("Attribution 4.0 International")
    assert "Creative Commons Attribution 4.0 International Public License" in legal_code
