"""``reproml-course site``: the course as a website, in English and French.

The sources are what the repository already holds: the solutions with their committed outputs
(nothing is executed), the student notebooks (the exercises as students get them, and the
notebooks the launch buttons open), the README, the guides and the benchmarks' figures. For each
language the pages are staged under ``build/site/sources/<language>`` and Sphinx (MyST-NB, the
book theme) builds them into ``<out>/<language>`` with every warning an error: a missing figure, an
unknown cross-reference or a broken link between pages stops the build. Both trees have the
same page names, so the language switch on each page goes to the same page in the other tree.
Then ``site_links`` checks every link and image of the result offline.
"""

from __future__ import annotations

import importlib.util
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

from reproml.base.errors import ReproMLError
from reproml.base.paths import repository_root
from reproml_course.authoring.launch import GitHubRepository
from reproml_course.authoring.site_pages import (
    WORDS,
    Guide,
    chapter_page,
    rewrite_links,
)
from reproml_course.base.notebooks import list_notebooks, read_notebook, write_notebook

SITE_LANGUAGES = ("en", "fr")
GUIDES = [
    Guide("index", {"en": "README.md", "fr": "README.fr.md"}),
    Guide("instructor", {"en": "docs/instructor.md", "fr": "docs/instructor.fr.md"}),
    Guide("your_project", {"en": "docs/your_project.md", "fr": None}),
    Guide("benchmarks", {"en": "benchmarks/README.md", "fr": None}),
    Guide("glossary", {"en": None, "fr": "docs/glossaire.md"}),
]
IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")
TEMPLATES = Path(__file__).with_name("site_templates")


def build_site(out: Path, languages: tuple[str, ...] = SITE_LANGUAGES) -> list[Path]:
    """Stage and build each language; return the built trees' folders."""
    root = repository_root()
    if root is None:
        raise ReproMLError("reproml-course site runs in a clone of the course (no README.md here).")
    repository = GitHubRepository.current()
    work = root / "build" / "site"  # staged pages, Sphinx's caches: never published
    if out.exists():
        shutil.rmtree(out)
    built = []
    for language in languages:
        sources = stage_sources(root, work / "sources" / language, language, repository)
        html = run_sphinx(sources, work / "html" / language, work / "doctrees" / language, language)
        built.append(Path(shutil.copytree(html, out / language)))
    (out / "index.html").write_text(_redirect(languages))
    (out / ".nojekyll").write_text("")  # GitHub Pages serves _static/ as it is
    return built


def stage_sources(root: Path, folder: Path, language: str, repository: GitHubRepository) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "chapters").mkdir(parents=True)
    (folder / "_notebooks").mkdir()
    chapters = []
    suffix = "" if language == "en" else f"{language}/"
    for solution_path in list_notebooks(root / "solutions" / suffix):
        name = solution_path.name
        student_path = f"notebooks/{suffix}{name}"
        shutil.copyfile(root / student_path, folder / "_notebooks" / name)
        attachments: dict[str, bytes] = {}
        page = chapter_page(
            read_notebook(solution_path),
            read_notebook(root / student_path),
            language,
            repository,
            student_path,
            download=f"../_notebooks/{name}",
            attachments=attachments,
        )
        for file_name, data in attachments.items():
            (folder / "chapters" / file_name).write_bytes(data)
        write_notebook(page, folder / "chapters" / name)
        chapters.append(f"chapters/{solution_path.stem}")
    pages = _page_links(root, language, chapters)
    for guide in GUIDES:
        _stage_guide(root, folder, guide, language, pages, repository)
    with (folder / "index.md").open("a") as index:
        index.write(_toctrees(language, chapters))
    write_configuration(folder, language, repository)
    return folder


def write_configuration(folder: Path, language: str, repository: GitHubRepository) -> None:
    """``conf.py``, the language switch's template and the site's CSS and icon."""
    for pattern, target in (("*.html", "_templates"), ("*.css", "_static"), ("*.svg", "_static")):
        (folder / target).mkdir(exist_ok=True)
        for path in TEMPLATES.glob(pattern):
            shutil.copyfile(path, folder / target / path.name)
    (folder / "conf.py").write_text(_configuration(language, repository))


def _page_links(root: Path, language: str, chapters: list[str]) -> dict[str, str]:
    """Repository path -> the link that replaces it, from a page at the tree's root."""
    other = next(code for code in SITE_LANGUAGES if code != language)
    links: dict[str, str] = {}
    for code in SITE_LANGUAGES:
        prefix = "" if code == language else f"../{other}/"
        extension = ".md" if code == language else ".html"
        for guide in GUIDES:
            if guide.sources.get(code):
                links[guide.sources[code]] = f"{prefix}{guide.name}{extension}"
        folder = "" if code == "en" else f"{code}/"
        for chapter in chapters:
            name = chapter.removeprefix("chapters/")
            for kind in ("solutions", "notebooks"):
                target = f"{prefix}{chapter}{'.ipynb' if code == language else '.html'}"
                links[f"{kind}/{folder}{name}.ipynb"] = target
    return links


def _stage_guide(
    root: Path,
    folder: Path,
    guide: Guide,
    language: str,
    pages: dict[str, str],
    repository: GitHubRepository,
) -> None:
    source = guide.sources.get(language)
    note = ""
    if source is None:
        source = next(path for path in guide.sources.values() if path)
        note = f":::{{note}}\n{WORDS[language]['only_in']}\n:::\n\n"
    text = (root / source).read_text()
    base = posixpath.dirname(source)
    text = rewrite_links(text, pages, repository, base, lambda path: (root / path).exists())
    text = _cross_language_links(text)

    def image(match: re.Match[str]) -> str:
        path = posixpath.normpath(posixpath.join(base, match[2]))
        target = folder / "images" / path.replace("/", "_")
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(root / path, target)
        return f"{match[1]}images/{target.name}{match[3]}"

    title, _, body = IMAGE.sub(image, text).partition("\n")
    (folder / f"{guide.name}.md").write_text(f"{title}\n\n{note}{body}")


def _cross_language_links(text: str) -> str:
    """A link into the other language's tree is plain HTML: Sphinx knows one tree at a time."""
    return re.sub(r"(?<!!)\[([^\]]+)\]\((\.\./(?:en|fr)/[^)\s]+)\)", r'<a href="\2">\1</a>', text)


def _toctrees(language: str, chapters: list[str]) -> str:
    words = WORDS[language]
    guides = [guide.name for guide in GUIDES if guide.name != "index"]
    return "".join(
        f"\n\n:::{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + "\n".join(names) + "\n:::\n"
        for caption, names in ((words["chapters"], chapters), (words["guides"], guides))
    )


def _configuration(language: str, repository: GitHubRepository) -> str:
    other = next(code for code in SITE_LANGUAGES if code != language)
    labels = {"en": "English", "fr": "Français"}
    return (
        (TEMPLATES / "conf.py.txt")
        .read_text()
        .format(
            language=language,
            other=other,
            other_label=labels[other],
            licence=WORDS[language]["licence"],
            repository_url=repository.url,
            branch=repository.branch,
        )
    )


def run_sphinx(sources: Path, out: Path, doctrees: Path, language: str) -> Path:
    """Sphinx in a process of its own (its extensions keep global state), warnings as errors."""
    if importlib.util.find_spec("myst_nb") is None:
        raise ReproMLError(
            "The website needs Sphinx and MyST-NB, from the `site` dependency group: "
            "run `uv sync` (or `uv sync --group site`), then build again."
        )
    for folder in (out, doctrees):
        if folder.exists():
            shutil.rmtree(folder)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "-q", "-E"]
    command += ["-d", str(doctrees), str(sources), str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        problems = (done.stderr or done.stdout).strip()
        raise ReproMLError(f"The {language} site does not build:\n{problems}")
    return out


def _redirect(languages: tuple[str, ...]) -> str:
    """The site's root: the reader's language when the site has it, else the first."""
    default = f"{languages[0]}/index.html"
    choose = (
        "var l = (navigator.language || '').slice(0, 2).toLowerCase();"
        f" location.replace(({list(languages)!r}.indexOf(l) >= 0 ? l : '{languages[0]}')"
        " + '/index.html');"
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>reproml</title>'
        f'<link rel="canonical" href="{default}"><script>{choose}</script>'
        f'<noscript><meta http-equiv="refresh" content="0; url={default}"></noscript>'
        f'</head><body><a href="{default}">{default}</a></body></html>\n'
    )
