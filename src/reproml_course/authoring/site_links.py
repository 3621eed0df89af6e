"""Every link and image of the built site, checked offline.

Sphinx's ``-W`` already refuses a missing figure or an unknown reference inside one language's
tree; this reads the HTML it wrote, so it also catches what Sphinx never sees: the language
switch and the links between the two trees, raw HTML links, a fragment (``page.html#part``)
with no such anchor. Links to other hosts are only collected (``external``): CI has no network,
a scheduled job checks them (``check_external_links``).
"""

from __future__ import annotations

import posixpath
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs that name another resource the page needs or links to.
LINK_ATTRIBUTES = [("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")]


@dataclass
class LinkReport:
    broken: list[str] = field(default_factory=list)  # "page: target (why)"
    external: set[str] = field(default_factory=set)
    pages: int = 0


def check_site_links(site: Path) -> LinkReport:
    from bs4 import BeautifulSoup

    report = LinkReport()
    anchors: dict[Path, set[str]] = {}

    def ids(page: Path) -> set[str]:
        if page not in anchors:
            anchors[page] = _ids(BeautifulSoup(page.read_text(), "html.parser"))
        return anchors[page]

    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:  # the theme's Jinja macros, not pages
            continue
        report.pages += 1
        soup = BeautifulSoup(page.read_text(), "html.parser")
        anchors[page] = _ids(soup)
        where = page.relative_to(site).as_posix()
        for tag_name, attribute in LINK_ATTRIBUTES:
            for tag in soup.find_all(tag_name, attrs={attribute: True}):
                target = tag[attribute]
                parts = urlsplit(target)
                if parts.scheme in ("http", "https"):
                    report.external.add(target)
                    continue
                if parts.scheme or target.startswith("//"):  # mailto:, data:, javascript:
                    continue
                path = page if not parts.path else _resolve(page, unquote(parts.path))
                if path.is_dir():
                    path = path / "index.html"
                if not path.resolve().is_relative_to(site.resolve()):
                    report.broken.append(f"{where}: {target} (outside the site)")
                elif not path.is_file():
                    report.broken.append(f"{where}: {target} (no such file)")
                elif (
                    parts.fragment
                    and path.suffix == ".html"
                    and unquote(parts.fragment) not in ids(path)
                ):
                    report.broken.append(f"{where}: {target} (no such anchor)")
    return report


def _ids(soup) -> set[str]:
    named = soup.find_all("a", attrs={"name": True})
    return {tag["id"] for tag in soup.find_all(id=True)} | {tag["name"] for tag in named}


def _resolve(page: Path, target: str) -> Path:
    return Path(posixpath.normpath(posixpath.join(page.parent.as_posix(), target)))


def check_external_links(urls: set[str], timeout: float = 20) -> list[str]:
    """What a scheduled job runs (it has the network CI lacks): each URL that fails, and why."""
    failed = []
    for url in sorted(urls):
        request = urllib.request.Request(url, headers={"User-Agent": "reproml-site-links"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status >= 400:
                    failed.append(f"{url} ({response.status})")
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            failed.append(f"{url} ({error})")
    return failed
