import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reproml.base.errors import ReproMLError
from reproml.base.paths import repository_root
from reproml_course.authoring.build import build_course, build_student_notebook
from reproml_course.authoring.launch import GitHubRepository, colab_setup_source
from reproml_course.base.notebooks import check_cells, list_notebooks, read_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[2]

EXERCISE = '''def double(x):
    """Return twice x."""
    ### BEGIN SOLUTION: return twice x
    return 2 * x
    ### END SOLUTION'''


def solution_notebook():
    cell = nbformat.v4.new_code_cell(EXERCISE)
    cell.outputs = [nbformat.v4.new_output("stream", text="secret output\n")]
    cell.execution_count = 3
    cell.metadata["execution"] = {"iopub.status.busy": "2026-11-23T10:00:00"}
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title\nWrite `double`."),
            cell,
            nbformat.v4.new_code_cell("checks.exercise_5_1(double)"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "my-env-py311",
        "display_name": "Mine",
        "language": "python",
    }
    return nb


def test_the_solution_becomes_a_stub_with_its_instruction():
    student = build_student_notebook(solution_notebook())
    code = student.cells[1].source
    assert "return 2 * x" not in code and "SOLUTION" not in code
    assert code.endswith('    # YOUR CODE HERE\n    raise NotImplementedError("return twice x")')
    assert code.startswith('def double(x):\n    """Return twice x."""')
    assert student.cells[0].source == "# Title\nWrite `double`."
    assert check_cells(student) == {"5.1": 2}
    compile(code, "cell", "exec")  # still valid Python


def test_outputs_and_personal_metadata_are_dropped():
    student = build_student_notebook(solution_notebook())
    cell = student.cells[1]
    assert cell.outputs == [] and cell.execution_count is None and cell.metadata == {}
    assert student.metadata.kernelspec.name == "python3"


def test_unbalanced_markers_are_one_clear_error():
    nb = solution_notebook()
    nb.cells[1].source = EXERCISE.replace("    ### END SOLUTION", "")
    with pytest.raises(ReproMLError, match="BEGIN SOLUTION/### END SOLUTION pairs"):
        build_student_notebook(nb)


def test_check_finds_drift_and_stale_notebooks(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    write_notebook(solution_notebook(), solutions / "01_x.ipynb")
    assert build_course(solutions, notebooks, check=True).out_of_date == [notebooks / "01_x.ipynb"]
    assert build_course(solutions, notebooks).written == [notebooks / "01_x.ipynb"]
    assert build_course(solutions, notebooks, check=True).up_to_date

    nb = read_notebook(solutions / "01_x.ipynb")
    nb.cells[0].source = "# A new title"
    write_notebook(nb, solutions / "01_x.ipynb")
    (notebooks / "99_old.ipynb").write_text((notebooks / "01_x.ipynb").read_text())
    report = build_course(solutions, notebooks, check=True)
    assert report.out_of_date == [notebooks / "01_x.ipynb"]
    assert report.stale == [notebooks / "99_old.ipynb"]


def run_check(solutions: Path, notebooks: Path) -> subprocess.CompletedProcess:
    command = ["build", "--check", "--solutions", str(solutions), "--notebooks", str(notebooks)]
    code = (
        "import sys; from reproml_course.cli.course import main; status = main(sys.argv[1:]); "
        "print('nbconvert' in sys.modules); sys.exit(status)"
    )
    return subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True)


def test_check_answers_from_the_manifest_until_something_changes(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    write_notebook(solution_notebook(), solutions / "01_x.ipynb")
    built = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "build", "--solutions", str(solutions),
         "--notebooks", str(notebooks)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Wrote" in built.stdout and (notebooks / ".build-manifest.json").is_file()
    fast = run_check(solutions, notebooks)
    assert fast.returncode == 0 and "unchanged since the build" in fast.stdout
    assert fast.stdout.strip().endswith("False")  # nbconvert was never imported

    student = notebooks / "01_x.ipynb"
    student.write_text(student.read_text().replace("YOUR CODE HERE", "someone's answer"))
    edited = run_check(solutions, notebooks)  # a hand edit of a student notebook
    assert edited.returncode == 1 and "01_x.ipynb" in edited.stderr

    subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "build", "--solutions", str(solutions),
         "--notebooks", str(notebooks)], capture_output=True, check=True,
    )  # fmt: skip
    assert run_check(solutions, notebooks).returncode == 0
    nb = read_notebook(solutions / "01_x.ipynb")
    nb.cells[0].source = "# A new title"
    write_notebook(nb, solutions / "01_x.ipynb")
    changed = run_check(solutions, notebooks)  # a solution edited, the build not run
    assert changed.returncode == 1 and "01_x.ipynb" in changed.stderr


def test_the_committed_student_notebooks_are_up_to_date():
    done = subprocess.run(
        [sys.executable, "-m", "reproml_course.cli.course", "build", "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_build_check_fails_with_one_line_naming_the_notebook(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    write_notebook(solution_notebook(), solutions / "01_x.ipynb")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reproml_course.cli.course",
            "build",
            "--check",
            "--solutions",
            str(solutions),
            "--notebooks",
            str(tmp_path / "notebooks"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: out of date with {solutions}: 01_x.ipynb. "
        "Run `uv run reproml-course build` and commit the result."
    ]
    assert json.loads((solutions / "01_x.ipynb").read_text())["cells"]


def test_committed_notebooks_name_no_personal_kernel_or_path():
    """What a clone shows on GitHub: the standard kernel and no one's home or machine path."""
    root = repository_root()
    personal = re.compile(r"/home/|/Users/|/root/|[A-Z]:\\\\Users|" + re.escape(str(root)))
    for folder in ("solutions", "notebooks"):
        for path in list_notebooks(root / folder):
            nb = read_notebook(path)
            assert set(nb.metadata) <= {"kernelspec", "language_info"}, path.name
            assert nb.metadata.kernelspec.name == "python3", path.name
            for cell in nb.cells:
                assert set(cell.metadata) <= {"tags"}, (path.name, cell.metadata)
                text = json.dumps(cell.get("outputs", []))
                assert not personal.search(text), (path.name, personal.search(text)[0])


def test_badges_follow_the_repository_and_are_added_once(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    write_notebook(solution_notebook(), solutions / "01_x.ipynb")
    fork = GitHubRepository("someone", "fork")
    build_course(solutions, notebooks, repository=fork)
    assert build_course(solutions, notebooks, check=True, repository=fork).up_to_date
    assert not build_course(solutions, notebooks, check=True).up_to_date  # the project's URL

    student = read_notebook(notebooks / "01_x.ipynb")
    assert [c.cell_type for c in student.cells] == ["markdown", "markdown", "code", "code", "code"]
    assert fork.colab_url("notebooks/01_x.ipynb") in student.cells[0].source
    assert student.cells[2].source == colab_setup_source("https://github.com/someone/fork")
    assert check_cells(student) == {"5.1": 4}
    again = build_student_notebook(student, "notebooks/01_x.ipynb", fork)
    assert [c.source for c in again.cells] == [c.source for c in student.cells]


def test_notebooks_carry_the_language_info_jupyterlab_would_write():
    """JupyterLab writes the kernel's language_info into a notebook it opens; a committed
    notebook that already holds it stays unchanged (and runs are not tagged git_dirty)."""
    from ipykernel.ipkernel import IPythonKernel

    from reproml_course.base.notebooks import tidy_metadata

    kernel = dict(IPythonKernel.language_info)
    for folder in ("solutions", "notebooks"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            written = nbformat.read(path, as_version=4).metadata.language_info
            assert {k: v for k, v in written.items() if k != "version"} == {
                k: v for k, v in kernel.items() if k != "version"
            }, path
            assert written.get("version", "").startswith("3."), path
    bare = nbformat.v4.new_notebook()
    assert tidy_metadata(bare).metadata.language_info["pygments_lexer"] == "ipython3"


def test_the_manifest_follows_only_the_readme_blocks_the_build_writes(tmp_path):
    from reproml_course.authoring.build_manifest import build_state

    readme = tmp_path / "README.md"
    block = "<!-- chapters: generated by reproml-course build -->\n| 00 |\n<!-- end chapters -->"
    readme.write_text(f"# Course\n\n{block}\n\nSome prose.\n")
    before = build_state(tmp_path / "solutions", tmp_path / "notebooks", readme)
    readme.write_text(f"# Course\n\n{block}\n\nOther prose, new numbers.\n")
    assert build_state(tmp_path / "solutions", tmp_path / "notebooks", readme) == before
    readme.write_text(f"# Course\n\n{block.replace('| 00 |', '| 01 |')}\n\nSome prose.\n")
    assert build_state(tmp_path / "solutions", tmp_path / "notebooks", readme) != before


def test_a_translated_document_s_every_sentence_counts(tmp_path):
    """README.fr.md and docs/instructor.fr.md are made from every sentence of their English:
    a sentence changed there must send build --check to the full comparison (which then names
    the catalog entry to translate), not answer "up to date" from the manifest."""
    from reproml_course.authoring.build_manifest import build_state

    solutions, notebooks, readme = (
        tmp_path / "solutions",
        tmp_path / "notebooks",
        tmp_path / "README.md",
    )
    (tmp_path / "locale" / "fr").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    guide = tmp_path / "docs" / "instructor.md"
    readme.write_text("# Course\n\nSome prose.\n")
    guide.write_text("# Guide\n\nGrade in a container.\n")
    before = build_state(solutions, notebooks, readme)
    guide.write_text("# Guide\n\nGrade in a throwaway VM.\n")
    assert build_state(solutions, notebooks, readme) == before  # no catalog: not translated
    for name in ("README.po", "instructor.po"):
        (tmp_path / "locale" / "fr" / name).write_text("")
    before = build_state(solutions, notebooks, readme)
    readme.write_text("# Course\n\nOther prose.\n")
    assert build_state(solutions, notebooks, readme) != before
    before = build_state(solutions, notebooks, readme)
    guide.write_text("# Guide\n\nGrade in a container.\n")
    assert build_state(solutions, notebooks, readme) != before
