"""docs/your_project.md holds: what it says to copy makes a project of its own, with the
dependencies it imports, that trains and tracks a run with no course code present."""

import ast
import json
import os
import re
import sqlite3
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "your_project.md"
TEMPLATE = ROOT / "docs" / "your_project" / "pyproject.toml"


def requirement_names(requirements: list[str]) -> dict[str, str]:
    """{distribution name: its requirement, extras dropped}."""
    found = {}
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)[0].lower()
        found[name] = re.sub(r"\[[^\]]*\]", "", requirement)
    return found


def third_party_imports(package: Path) -> set[str]:
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"reproml", "__future__"}


def dependencies(pyproject: Path) -> dict[str, str]:
    return requirement_names(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def test_the_template_declares_what_the_package_imports_with_the_course_s_ranges():
    template, course = dependencies(TEMPLATE), dependencies(ROOT / "pyproject.toml")
    provided_by = packages_distributions()  # mlflow: mlflow, mlflow-skinny...
    undeclared = [
        name
        for name in sorted(third_party_imports(ROOT / "src" / "reproml"))
        if not {d.lower() for d in provided_by[name]} & set(template)
    ]
    assert undeclared == []
    assert "mlflow" in template and "uv" not in template and "optuna" not in template
    for name, requirement in template.items():
        if name in course:
            assert requirement == course[name], f"{name}: {requirement} vs {course[name]}"


def copy_block() -> str:
    text = PAGE.read_text()
    block = re.search(r"<!-- copy:[^>]*-->\n```bash\n(.*?)```\n<!-- end copy -->", text, re.S)
    assert block, "docs/your_project.md lost its copy block"
    return block[1]


@pytest.mark.slow
def test_what_the_page_copies_trains_and_tracks_with_no_course_code(tmp_path, synthetic):
    project = tmp_path / "my-experiments"
    project.mkdir()
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", copy_block()],
        cwd=project, env={**os.environ, "COURSE": str(ROOT)}, check=True,
    )  # fmt: skip
    assert not (project / "src" / "reproml_course").exists()
    assert not (project / "conf" / "search.yaml").exists()

    # A venv that sees this environment's packages (torch, mlflow...) through a .pth file, as
    # `uv sync` would install them, but not the course: the .pth files in that folder (the
    # course's editable src/) are not processed. pip may not download anything. (The course's
    # own editable install leaves reproml_course/uv.lock there, a folder with no code.)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MLFLOW_TRACKING_URI")}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", "."],
        cwd=project, env=env, check=True, capture_output=True,
    )  # fmt: skip
    where = subprocess.run(
        [python, "-c", "import json, importlib.util as u, reproml; print(json.dumps("
         "[reproml.__file__, u.find_spec('reproml_course.checks') is None]))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(where.stdout) == [str(project / "src" / "reproml" / "__init__.py"), True]

    train = [str(venv / "bin" / "reproml-train"), "experiment=quick", "trainer.progress=false",
             f"data.root={synthetic.root}"]  # fmt: skip
    plain = subprocess.run(
        [*train, "tracking=none"], cwd=project, env=env, capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert re.fullmatch(r"val_accuracy=\S+ test_accuracy=\S+ test_macro_f1=\S+",
                        plain.stdout.strip().splitlines()[-1])  # fmt: skip
    tracked = subprocess.run(train, cwd=project, env=env, capture_output=True, text=True)
    assert tracked.returncode == 0, tracked.stderr[-3000:]
    assert tracked.stdout.strip().splitlines()[-1] == plain.stdout.strip().splitlines()[-1]
    with sqlite3.connect(project / "mlflow.db") as db:
        runs = db.execute("SELECT run_uuid, status FROM runs").fetchall()
        ((run_id, status),) = runs
        params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid=?", (run_id,)))
    assert status == "FINISHED" and params["model.name"] == "cnn"
