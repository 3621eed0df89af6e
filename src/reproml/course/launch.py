"""Where students open the course: Binder and Colab links, and the Colab setup cell.

Every address is built from one URL, ``Repository`` in ``pyproject.toml``'s
``[project.urls]``: a fork changes that line, runs ``reproml-course build``, and every badge in
the notebooks and the README points to the fork.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import quote

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell

from reproml.errors import ReproMLError
from reproml.paths import repository_root

URL_KEY = "Repository"
COLAB_HOME = "/content/reproml"  # where the Colab cell clones the course
COLAB_TAG = "colab"  # the tag of the cells the build adds, so it can find them again
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def repository_url() -> str:
    """The ``Repository`` URL: from ``pyproject.toml`` in a checkout (always current), else from
    the installed package's metadata."""
    root = repository_root()
    if root is not None:
        urls = tomllib.loads((root / "pyproject.toml").read_text())["project"].get("urls", {})
    else:
        entries = metadata.metadata("reproml").get_all("Project-URL") or []
        urls = dict(entry.split(", ", 1) for entry in entries)
    if URL_KEY not in urls:
        raise ReproMLError(f"pyproject.toml has no [project.urls] {URL_KEY} = 'https://...'.")
    return urls[URL_KEY]


@dataclass(frozen=True)
class GitHubRepository:
    owner: str
    name: str
    branch: str = "main"

    @classmethod
    def from_url(cls, url: str, branch: str = "main") -> GitHubRepository:
        prefix = "https://github.com/"
        parts = url.removeprefix(prefix).removesuffix(".git").strip("/").split("/")
        if not url.startswith(prefix) or len(parts) != 2 or not all(parts):
            raise ReproMLError(
                f"The repository URL {url!r} is not a GitHub repository "
                f"({prefix}OWNER/NAME): Binder and Colab open notebooks from GitHub."
            )
        return cls(parts[0], parts[1], branch)

    @classmethod
    def current(cls) -> GitHubRepository:
        return cls.from_url(repository_url())

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    def binder_url(self, path: str = "notebooks") -> str:
        """mybinder.org, opening JupyterLab on ``path`` (a notebook or a folder)."""
        urlpath = quote(f"lab/tree/{path}", safe="")
        return (
            f"https://mybinder.org/v2/gh/{self.owner}/{self.name}/{self.branch}?urlpath={urlpath}"
        )

    def colab_url(self, path: str) -> str:
        return (
            f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/"
            f"{self.branch}/{path}"
        )

    def badges(self, path: str) -> str:
        """Markdown: the Colab and Binder badges of one notebook (a repository-relative path)."""
        return (
            f"[![Open in Colab]({COLAB_BADGE})]({self.colab_url(path)}) "
            f"[![Launch on Binder]({BINDER_BADGE})]({self.binder_url(path)})"
        )


def colab_setup_source(clone_url: str, home: str = COLAB_HOME) -> str:
    """The first code cell of a student notebook.

    It has to work before the package exists, so it is plain Python with no reproml import.
    On Colab it clones the course, installs it in editable mode (pip keeps Colab's torch and
    torchvision: the package's requirements are ranges that accept them), puts ``src/`` on the
    running kernel's path (an editable install's ``.pth`` file is only read at start-up), moves
    to the course's ``notebooks/`` and downloads Fashion-MNIST into its ``data/``. Elsewhere
    ``google.colab`` is not imported and the cell does nothing.
    """
    return f"""\
# On Google Colab: fetch the course, install it (Colab's own torch is kept) and get the data.
# Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import importlib
    import os
    import subprocess

    COURSE = {home!r}
    clone = ["git", "clone", "--quiet", "--depth", "1", {clone_url!r}, COURSE]
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--editable", COURSE]
    if not os.path.isdir(COURSE):
        subprocess.run(clone, check=True)
    subprocess.run(install, check=True)
    sys.path.insert(0, os.path.join(COURSE, "src"))
    importlib.invalidate_caches()
    os.chdir(os.path.join(COURSE, "notebooks"))
    from reproml.data import load_fashion_mnist

    load_fashion_mnist()
    print(f"Colab: the course is in {{COURSE}}, its data in {{COURSE}}/data.")"""


def add_launch_cells(nb: NotebookNode, path: str, repository: GitHubRepository) -> NotebookNode:
    """Put the badges at the top of a student notebook and the Colab cell before its first
    code cell (in place; the cells are tagged, so a second call replaces them)."""
    nb.cells = [c for c in nb.cells if COLAB_TAG not in c.get("metadata", {}).get("tags", [])]
    badges = new_markdown_cell(repository.badges(path), id="launch-badges")
    setup = new_code_cell(colab_setup_source(repository.url), id="colab-setup")
    for cell in (badges, setup):
        cell.metadata["tags"] = [COLAB_TAG]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup)
    nb.cells.insert(0, badges)
    return nb


def readme_blocks(titles: dict[str, str], repository: GitHubRepository) -> dict[str, str]:
    """The generated parts of the README: the badges under its title and the chapter table.

    ``titles``: notebook file name -> title (``00 · Setup and data``).
    """
    first = next(iter(titles), "")
    badges = (
        f"[![Launch the course on Binder]({BINDER_BADGE})]({repository.binder_url()})\n"
        f"[![Open chapter 00 in Colab]({COLAB_BADGE})]"
        f"({repository.colab_url(f'notebooks/{first}')})"
    )
    rows = ["| # | chapter (the solution, with its outputs) | the exercises |", "|---|---|---|"]
    for name, title in titles.items():
        number, _, text = title.partition(" · ")
        if text:  # experiment.ipynb is not a chapter
            badge = repository.badges(f"notebooks/{name}")
            rows.append(f"| {number} | [{text}](solutions/{name}) | {badge} |")
    return {"badges": badges, "chapters": "\n".join(rows)}


def update_readme(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each generated block replaced (between its two marker comments)."""
    for name, content in blocks.items():
        begin, end = f"<!-- {name}: generated by reproml-course build -->", f"<!-- end {name} -->"
        before, found, rest = text.partition(begin)
        _, found_end, after = rest.partition(end)
        if not found or not found_end:
            raise ReproMLError(
                f"The README has no place for the {name}: put the lines {begin} and {end} "
                "where they go."
            )
        text = f"{before}{begin}\n{content}\n{end}{after}"
    return text
