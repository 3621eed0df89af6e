"""Two packages, one per audience, and their layers.

``reproml`` is the ML project a researcher copies: it never imports ``reproml_course``, the
course's machinery (checks, authoring, the class server, the chapters' helpers), which builds
on it. Inside each package a module imports only from its own layer and the ones before it,
and no modules import each other in a circle. What only reads stores, notebooks or the command
line imports neither torch nor matplotlib: the Jupyter server, the class server and the
instructor's commands start in a second.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reproml
import reproml_course

LIGHT = [
    "reproml_course.checks",  # each check imports what it needs when it runs
    "reproml_course.cli.classroom",
    "reproml_course.cli.course",
    "reproml_course.cli.search",  # its --help; a worker imports torch when it trains
    "reproml_course.chapters.search",  # what launches the search workers: it only creates the study
    "reproml_course.classroom.accounts",
    "reproml_course.classroom.admin",
    "reproml_course.classroom.evaluator",  # the parent's side; its worker imports torch itself
    "reproml_course.classroom.evaluator_worker",  # torch only once it runs, in its own process
    "reproml_course.classroom.leaderboard",
    "reproml_course.classroom.leaderboard_verify",
    "reproml_course.classroom.mlflow_proxy",  # the Jupyter server's MLflow tile
    "reproml_course.classroom.model_files",
    "reproml_course.classroom.model_spec",
    "reproml_course.classroom.records",
    "reproml_course.classroom.server",
    "reproml_course.classroom.sync",
    "reproml_course.authoring.binder",
    "reproml_course.authoring.build",
    "reproml_course.authoring.execute",
    "reproml_course.authoring.grade",
    "reproml_course.authoring.launch",
    "reproml.parts",  # the leaderboard checks a classmate's model spec with it, in the parent
    "reproml.schema",
    "reproml.tracking.stores",
    "reproml.tracking.txt",  # chapter 01 reads result files
]

# Lower layers first: a module may import from its own layer and the ones before it, never from
# a later one (deferred imports inside functions included). The course's layers are folders.
LAYERS = {
    "reproml": [
        {"base"},
        {"schema", "config", "parts", "data", "metrics", "models", "schedules", "runtime",
         "provenance", "augment", "plots"},
        {"loop", "training"},
        {"tracking"},
        {"experiment"},
        {"cli"},
    ],
    "reproml_course": [
        {"base"},
        {"classroom"},
        {"chapters"},
        {"checks"},
        {"authoring"},
        {"cli"},
    ],
}  # fmt: skip
ROOTS = {name: Path(package.__file__).parent for name, package in
         (("reproml", reproml), ("reproml_course", reproml_course))}  # fmt: skip


def modules() -> dict[str, Path]:
    return {
        module_name(path, package): path
        for package, root in ROOTS.items()
        for path in sorted(root.rglob("*.py"))
    }


def module_name(path: Path, package: str) -> str:
    parts = path.relative_to(ROOTS[package].parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, known: set[str]) -> set[str]:
    """The project's modules ``path`` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name in known}


def layer_of(module: str) -> tuple[str, int]:
    package, _, rest = module.partition(".")
    top = rest.split(".")[0]
    return package, next(i for i, names in enumerate(LAYERS[package]) if top in names)


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(path, known) - {name} for name, path in found.items()}


def test_every_module_has_a_layer():
    for name in modules():
        if name not in ROOTS:
            layer_of(name)  # StopIteration: add the new module or folder to LAYERS


def test_the_researchers_package_never_imports_the_course():
    upward = [
        f"{name} imports {other}"
        for name, others in sorted(graph().items())
        if name.startswith("reproml.") or name == "reproml"
        for other in sorted(others)
        if other.startswith("reproml_course")
    ]
    assert upward == []


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{name} imports {other}"
        for name, others in sorted(graph().items())
        if name not in ROOTS
        for other in sorted(others)
        if other not in ROOTS
        and layer_of(other)[0] == layer_of(name)[0]
        and layer_of(other)[1] > layer_of(name)[1]
    ]
    assert upward == []


def test_no_modules_import_each_other_in_a_circle():
    edges = graph()
    cycles, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for other in sorted(edges[name]):
            if state.get(other) == "open":
                cycles.append(" -> ".join([*path[path.index(other) :], other]))
            elif other not in state:
                visit(other, [*path, other])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_training_and_tracking_load_nothing_of_the_course():
    code = (
        "import sys, reproml.cli.train, reproml.experiment, reproml.tracking.mlflow; "
        "print(sorted(m for m in sys.modules if m.startswith('reproml_course')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", LIGHT)
def test_a_light_module_imports_no_torch(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_chapter_s_first_cell_reads_no_notebook_format():
    """nbformat imports jsonschema, whose format checkers build a grammar at import (about a
    second): every chapter's first cell, in every kernel, would pay it for nothing."""
    code = (
        "import sys, reproml_course.checks, reproml_course.chapters.notebook; "
        "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_reading_a_notebook_builds_no_grammar():
    """jsonschema imports its optional IRI checker when it is installed, which builds a Lark
    grammar (about a second, in every process that reads a notebook); the lock leaves it out."""
    code = "import sys, nbformat; print('lark' in sys.modules, 'rfc3987_syntax' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
