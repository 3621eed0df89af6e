"""The website's pages, its link check and Sphinx's refusals (the whole site: test_site_build)."""

import base64
from pathlib import Path

import nbformat
import pytest

from reproml.base.errors import ReproMLError
from reproml_course.authoring.build import build_student_notebook
from reproml_course.authoring.launch import GitHubRepository
from reproml_course.authoring.site import run_sphinx, write_configuration
from reproml_course.authoring.site_links import check_site_links
from reproml_course.authoring.site_pages import chapter_page, rewrite_links

REPOSITORY = GitHubRepository("someone", "course")
EXERCISE = """def double(x):
    ### BEGIN SOLUTION: return twice x
    return 2 * x
    ### END SOLUTION
double(4)"""
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def solution_notebook() -> nbformat.NotebookNode:
    exercise = nbformat.v4.new_code_cell(EXERCISE, id="07-01")
    exercise.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "8"})]
    picture = nbformat.v4.new_markdown_cell("![runs](attachment:runs.png)", id="07-02")
    picture.attachments = {"runs.png": {"image/png": PIXEL}}
    answers = '### BEGIN SOLUTION: your answers\nanswers = {1: "b"}\n### END SOLUTION'
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# 07 · Title\n**Learning goals**", id="07-00"),
            exercise,
            nbformat.v4.new_code_cell("checks.exercise_7_1(double)", id="07-03"),
            picture,
            nbformat.v4.new_code_cell(answers, id="07-04"),
            nbformat.v4.new_code_cell('checks.quiz("7.Q1", answers)', id="07-05"),
        ]
    )


def page_of(language: str = "en", attachments: dict | None = None) -> nbformat.NotebookNode:
    solution = solution_notebook()
    student = build_student_notebook(solution, language=language)
    path = "notebooks/fr/07_title.ipynb" if language == "fr" else "notebooks/07_title.ipynb"
    return chapter_page(
        solution,
        student,
        language,
        REPOSITORY,
        path,
        "../_notebooks/07_title.ipynb",
        {} if attachments is None else attachments,
    )


def test_an_exercise_shows_the_students_stub_then_the_solution_folded():
    page = page_of()
    sources = [cell.source for cell in page.cells]
    stub = next(i for i, source in enumerate(sources) if "NotImplementedError" in source)
    solution = page.cells[stub + 1]
    assert "def double(x):" in page.cells[stub].source and page.cells[stub].outputs == []
    assert "return 2 * x" in solution.source and "SOLUTION" not in solution.source
    assert "hide-input" in solution.metadata["tags"]
    assert solution.metadata["mystnb"]["code_prompt_show"] == "Show the solution"
    assert solution.outputs[0]["data"]["text/plain"] == "8"  # what the solution shows, kept
    assert "return 2 * x" not in "".join(sources[: stub + 1])


def test_the_quiz_answers_are_folded_and_the_cells_keep_distinct_ids():
    page = page_of()
    quiz = next(cell for cell in page.cells if "checks.quiz" in cell.source)
    assert "hide-output" in quiz.metadata["tags"]
    answers = next(cell for cell in page.cells if 'answers = {1: "b"}' in cell.source)
    assert "hide-input" in answers.metadata["tags"]
    ids = [cell.id for cell in page.cells]
    assert len(set(ids)) == len(ids)
    nbformat.validate(page)


def test_the_launch_buttons_open_the_student_notebook_of_the_page_s_language():
    english, french = page_of("en"), page_of("fr")
    assert english.cells[0].source.startswith("# 07")
    buttons = english.cells[1].source
    assert REPOSITORY.binder_url("notebooks/07_title.ipynb") in buttons
    assert REPOSITORY.colab_url("notebooks/07_title.ipynb") in buttons
    assert "{download}`Download the notebook <../_notebooks/07_title.ipynb>`" in buttons
    assert REPOSITORY.colab_url("notebooks/fr/07_title.ipynb") in french.cells[1].source
    assert "Ouvrir dans Colab" in french.cells[1].source
    folded = next(cell for cell in french.cells if "hide-input" in cell.metadata.get("tags", []))
    assert folded.metadata["mystnb"]["code_prompt_show"] == "Afficher la solution"


def test_attached_images_become_files_beside_the_page():
    attachments: dict[str, bytes] = {}
    page = page_of(attachments=attachments)
    picture = next(cell for cell in page.cells if "![runs]" in cell.source)
    assert picture.source == "![runs](runs.png)" and "attachments" not in picture
    assert attachments["runs.png"].startswith(b"\x89PNG")


def test_links_to_the_repository_s_files_become_pages_or_github_links():
    pages = {"solutions/03_hydra.ipynb": "chapters/03_hydra.ipynb", "docs/instructor.md": "x.md"}
    text = (
        "[![Open in Colab](https://colab/badge.svg)](https://colab/open) "
        "[chapter 03](solutions/03_hydra.ipynb#exercise) [guide](instructor.md) "
        "[conf](../conf/config.yaml) [uv](https://docs.astral.sh/uv/) [top](#start) "
        "![figure](cnn.png)"
    )
    rewritten = rewrite_links(text, pages, REPOSITORY, base="docs")
    assert "[Open in Colab](https://colab/open)" in rewritten and "badge.svg" not in rewritten
    assert "[guide](x.md)" in rewritten
    assert "[conf](https://github.com/someone/course/blob/main/conf/config.yaml)" in rewritten
    assert "[uv](https://docs.astral.sh/uv/)" in rewritten and "[top](#start)" in rewritten
    assert "![figure](cnn.png)" in rewritten  # images are the stager's, not links
    at_root = rewrite_links("[c](solutions/03_hydra.ipynb#exercise)", pages, REPOSITORY)
    assert at_root == "[c](chapters/03_hydra.ipynb#exercise)"
    # a file the repository does not have stays a local link: Sphinx refuses it
    missing = rewrite_links("[gone](docs/gone.md)", pages, REPOSITORY, exists=lambda p: False)
    assert missing == "[gone](docs/gone.md)"


def write_page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>")


def test_the_link_check_finds_missing_files_anchors_and_images(tmp_path):
    write_page(
        tmp_path / "en" / "index.html",
        '<a href="chapters/a.html#part">ok</a> <a href="chapters/a.html#gone">anchor</a> '
        '<a href="../fr/index.html">switch</a> <img src="_images/lost.png"> '
        '<a href="https://mybinder.org/v2/gh/x">binder</a> <a href="mailto:a@b.c">mail</a> '
        '<a href="#top" id="top">top</a> <a href="../../outside.html">out</a>',
    )
    write_page(tmp_path / "en" / "chapters" / "a.html", '<h2 id="part">Part</h2>')
    write_page(tmp_path / "en" / "_static" / "macros.html", "<a href=\"{{ pathto('x') }}\">")
    report = check_site_links(tmp_path)
    assert report.pages == 2  # the theme's macros under _static are not pages
    assert report.broken == [
        "en/index.html: chapters/a.html#gone (no such anchor)",
        "en/index.html: ../fr/index.html (no such file)",
        "en/index.html: ../../outside.html (outside the site)",
        "en/index.html: _images/lost.png (no such file)",
    ]
    assert report.external == {"https://mybinder.org/v2/gh/x"}
    write_page(tmp_path / "fr" / "index.html", "")
    write_page(tmp_path / "en" / "_images" / "lost.png", "")
    assert len(check_site_links(tmp_path).broken) == 2


@pytest.mark.parametrize(
    "body, why",
    [
        ("[the guide](guide.md)", "guide"),  # a page that is not there
        ("![a figure](figure.png)", "figure.png"),  # an image that is not there
        ("{ref}`somewhere`", "somewhere"),  # an unknown cross-reference
    ],
)
def test_sphinx_refuses_a_page_with_a_broken_reference(tmp_path, body, why):
    sources = tmp_path / "sources"
    sources.mkdir()
    write_configuration(sources, "en", REPOSITORY)
    (sources / "index.md").write_text(f"# Home\n\n{body}\n")
    with pytest.raises(ReproMLError, match="does not build") as raised:
        run_sphinx(sources, tmp_path / "html", tmp_path / "doctrees", "en")
    assert why in str(raised.value)
    (sources / "index.md").write_text("# Home\n\nNothing broken.\n")
    html = run_sphinx(sources, tmp_path / "html", tmp_path / "doctrees", "en")
    assert (html / "index.html").is_file()
