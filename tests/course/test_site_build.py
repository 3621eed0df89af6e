"""The whole website, built from this repository, read as HTML and in headless Chromium.

The browser part needs Chromium (tests/browser.py): without it, it is skipped. Screenshots of
a few pages are kept in ``build/site-screenshots/`` for a person to look at.
"""

import functools
import http.server
import threading
from pathlib import Path

import pytest
from browser import chromium

from reproml_course.authoring.launch import GitHubRepository
from reproml_course.authoring.site import SITE_LANGUAGES
from reproml_course.authoring.site_links import check_site_links
from reproml_course.base.notebooks import list_notebooks
from reproml_course.cli.course import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [path.stem for path in list_notebooks(ROOT / "solutions")]
SCREENSHOTS = ROOT / "build" / "site-screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Built as the README says (`reproml-course site`): Sphinx with every warning an error,
    then every link and image checked; CI builds the website here, in the slow tier."""
    out = tmp_path_factory.mktemp("site") / "_site"
    assert main(["site", "--out", str(out)]) == 0
    return out


def pages(tree: Path) -> set[str]:
    return {path.relative_to(tree).as_posix() for path in tree.rglob("*.html")} - {
        path.relative_to(tree).as_posix() for path in (tree / "_static").rglob("*.html")
    }


def test_both_languages_have_every_page_and_no_broken_link(site):
    assert pages(site / "en") == pages(site / "fr")
    assert {f"chapters/{name}.html" for name in CHAPTERS} <= pages(site / "en")
    report = check_site_links(site)
    assert report.broken == []
    assert report.pages == 2 * len(pages(site / "en")) + 1  # and the root's redirect


def test_each_chapter_page_launches_its_student_notebook(site):
    repository = GitHubRepository.current()
    for language, folder in (("en", "notebooks"), ("fr", "notebooks/fr")):
        for name in CHAPTERS:
            html = (site / language / "chapters" / f"{name}.html").read_text()
            path = f"{folder}/{name}.ipynb"
            assert repository.colab_url(path) in html, (language, name)
            assert repository.binder_url(path).replace("&", "&amp;") in html, (language, name)
            assert 'href="../_downloads/' in html and f"{name}.ipynb" in html, (language, name)
        switch = f'href="../../{"fr" if language == "en" else "en"}/chapters/{CHAPTERS[0]}.html"'
        assert switch in (site / language / "chapters" / f"{CHAPTERS[0]}.html").read_text()


def test_a_page_with_figures_keeps_them(site):
    for language in SITE_LANGUAGES:
        html = (site / language / "chapters" / "04_mlflow.html").read_text()
        assert html.count("<img") >= 3  # the learning curves and the UI's two screenshots
    assert "cnn_frontier.png" in (site / "en" / "benchmarks.html").read_text()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


SHOW = """const images = [...document.images];
return images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);"""


def test_every_chapter_in_both_languages_in_chromium(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    driver = chromium()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for language in SITE_LANGUAGES:
            for name in CHAPTERS:
                driver.get(f"{served}/{language}/chapters/{name}.html")
                assert driver.execute_script(SHOW) == [], (language, name)
                errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                assert errors == [], (language, name, errors)
            driver.save_screenshot(str(SCREENSHOTS / f"{language}_{CHAPTERS[-2]}.png"))

        driver.get(f"{served}/en/chapters/09_hyperparameter_search.html")
        folded = driver.find_element(By.CSS_SELECTOR, "details.hide summary")
        code = folded.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "pre")
        assert not code.is_displayed()
        assert folded.text == "Show the solution"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", folded)
        folded.click()
        WebDriverWait(driver, 5).until(lambda _: code.is_displayed())
        assert "suggest_" in code.text
        driver.save_screenshot(str(SCREENSHOTS / "en_solution_unfolded.png"))

        driver.find_element(By.CSS_SELECTOR, "a.reproml-language").click()
        assert driver.current_url.endswith("/fr/chapters/09_hyperparameter_search.html")
        title = driver.find_element(By.CSS_SELECTOR, "article h1").get_attribute("textContent")
        assert title.startswith("09 · Recherche"), title
        assert "Afficher la solution" in driver.page_source
        driver.save_screenshot(str(SCREENSHOTS / "fr_09_after_switch.png"))
        driver.get(f"{served}/index.html")  # the site's root sends to the English home
        assert driver.current_url.endswith("/en/index.html")
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()
