"""The website's pages, made from what the repository holds: a chapter's page is its solution
with the committed outputs, each exercise shown as the student gets it (the stub) with the
solution folded under it, the quiz's answers folded, and buttons that open the *student*
notebook of that language on Binder or Colab or download it. Markdown guides keep their text;
their links to the repository's files become links between the site's pages.
"""

from __future__ import annotations

import base64
import copy
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from reproml_course.authoring.build import BEGIN, END
from reproml_course.authoring.launch import GitHubRepository

MARKER = re.compile(rf"^[ \t]*(?:{re.escape(BEGIN)}|{re.escape(END)}).*\n?", re.MULTILINE)
QUIZ_CALL = re.compile(r"^\s*checks\.quiz\(", re.MULTILINE)
BADGE_LINK = re.compile(r"\[!\[([^\]]*)\]\([^)]*\)\]\(([^)]*)\)")  # [![words](image)](target)
MARKDOWN_LINK = re.compile(r"(?<!!)\[((?:[^\]\\]|\\.)*)\]\(([^)\s]+)\)")

WORDS = {
    "en": {
        "binder": "Open on Binder",
        "colab": "Open in Colab",
        "download": "Download the notebook",
        "show_solution": "Show the solution",
        "hide_solution": "Hide the solution",
        "show_answers": "Show the answers",
        "hide_answers": "Hide the answers",
        "chapters": "Chapters",
        "guides": "Guides",
        "only_in": "This page exists in French only.",
        "licence": "Text and figures under CC BY 4.0, code under the MIT licence: see the "
        "repository's LICENSE files and CITATION.cff.",
    },
    "fr": {
        "binder": "Ouvrir sur Binder",
        "colab": "Ouvrir dans Colab",
        "download": "Télécharger le notebook",
        "show_solution": "Afficher la solution",
        "hide_solution": "Masquer la solution",
        "show_answers": "Afficher les réponses",
        "hide_answers": "Masquer les réponses",
        "chapters": "Chapitres",
        "guides": "Guides",
        "only_in": "Cette page n'existe qu'en anglais.",
        "licence": "Texte et figures sous licence CC BY 4.0, code sous licence MIT : voir les "
        "fichiers LICENSE et CITATION.cff du dépôt.",
    },
}


@dataclass(frozen=True)
class Guide:
    """A Markdown page: its name on the site and its source in each language (``None``: the
    page shows the other language's text, with a line that says so)."""

    name: str
    sources: dict[str, str | None]


def chapter_page(
    solution: NotebookNode,
    student: NotebookNode,
    language: str,
    repository: GitHubRepository,
    student_path: str,
    download: str,
    attachments: dict[str, bytes],
) -> NotebookNode:
    """``student_path``: the student notebook in the repository (for Binder and Colab);
    ``download``: the same notebook's copy beside the page sources (for the download button).
    A Markdown cell's attached images are added to ``attachments`` (file name -> bytes), to be
    written beside the page: MyST-NB does not read ``attachment:`` links."""
    words = WORDS[language]
    stubs = {cell.get("id"): cell for cell in student.cells}
    page = copy.deepcopy(solution)
    cells: list[NotebookNode] = []
    for cell in page.cells:
        _attachments_to_files(cell, attachments)
        if cell.cell_type == "code" and BEGIN in cell.source:
            cells.append(_stub(stubs.get(cell.get("id")), cell))
            cell.source = MARKER.sub("", cell.source)
            _fold(cell, "hide-input", words["show_solution"], words["hide_solution"])
        elif cell.cell_type == "code" and QUIZ_CALL.search(cell.source):
            _fold(cell, "hide-output", words["show_answers"], words["hide_answers"])
        cells.append(cell)
    buttons = launch_buttons(repository, student_path, download, language)
    page.cells = [*cells[:1], new_markdown_cell(buttons), *cells[1:]]
    for index, cell in enumerate(page.cells):  # unique ids: the stubs share their solution's
        cell["id"] = f"{cell.get('id') or 'cell'}-{index}"
    return page


def launch_buttons(repository: GitHubRepository, path: str, download: str, language: str) -> str:
    """sphinx-design buttons, not the badges' images: the site must show whole offline."""
    words = WORDS[language]
    links = [
        (repository.binder_url(path), words["binder"]),
        (repository.colab_url(path), words["colab"]),
    ]
    buttons = [f":::{{button-link}} {url}\n:color: primary\n\n{label}\n:::" for url, label in links]
    download_link = f"{{download}}`{words['download']} <{download}>`"
    return "::::{container} reproml-launch\n" + "\n".join([*buttons, download_link]) + "\n::::"


def _attachments_to_files(cell: NotebookNode, attachments: dict[str, bytes]) -> None:
    for name, data in cell.pop("attachments", {}).items():
        for mime, encoded in data.items():
            if mime.startswith("image/"):
                attachments[name] = base64.b64decode(encoded)
        cell.source = cell.source.replace(f"attachment:{name}", name)


def _stub(stub: NotebookNode | None, solution: NotebookNode) -> NotebookNode:
    """The exercise's cell as the student's notebook has it, without outputs."""
    cell = copy.deepcopy(stub if stub is not None else solution)
    cell.outputs, cell.execution_count, cell.metadata = [], None, {}
    return cell


def _fold(cell: NotebookNode, tag: str, show: str, hide: str) -> None:
    cell.metadata.setdefault("tags", []).append(tag)
    cell.metadata["mystnb"] = {"code_prompt_show": show, "code_prompt_hide": hide}


def rewrite_links(
    text: str,
    pages: dict[str, str],
    repository: GitHubRepository,
    base: str = "",
    exists: Callable[[str], bool] = lambda path: True,
) -> str:
    """Badges become plain links (their images live on other hosts); a link to a file that has
    a page goes to the page (``pages``: repository path -> link), to any other file of the
    repository, to GitHub. ``base``: the folder of the Markdown file, in the repository. A link
    to a file that does not ``exists`` stays as it is, for Sphinx to refuse."""

    def link(match: re.Match[str]) -> str:
        words, target = match[1], match[2]
        path, _, anchor = target.partition("#")
        if not path or "://" in path or path.startswith("mailto:"):
            return match[0]
        path = posixpath.normpath(posixpath.join(base, path))
        if path in pages:
            return f"[{words}]({pages[path]}{'#' + anchor if anchor else ''})"
        if not exists(path):
            return match[0]
        return f"[{words}]({repository.url}/blob/{repository.branch}/{path})"

    return MARKDOWN_LINK.sub(link, BADGE_LINK.sub(r"[\1](\2)", text))
