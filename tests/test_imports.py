"""What only reads stores, notebooks or the command line imports neither torch nor matplotlib:
the Jupyter server, the class server and the instructor's commands start in a second. And no
module imports from a layer above its own."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import reproml

LIGHT = [
    "reproml.checks",  # each check imports what it needs when it runs
    "reproml.cli.classroom",
    "reproml.cli.course",
    "reproml.cli.search",  # its --help; a worker imports torch when it trains
    "reproml.search",  # what launches the search workers: it only creates the study
    "reproml.classroom.accounts",
    "reproml.classroom.admin",
    "reproml.classroom.evaluator",  # the parent's side; its worker imports torch itself
    "reproml.classroom.leaderboard",
    "reproml.classroom.mlflow_proxy",  # the Jupyter server's MLflow tile
    "reproml.classroom.model_files",
    "reproml.classroom.records",
    "reproml.classroom.server",
    "reproml.classroom.sync",
    "reproml.course.binder",
    "reproml.course.build",
    "reproml.course.execute",
    "reproml.course.grade",
    "reproml.course.launch",
    "reproml.tracking.stores",
    "reproml.tracking.txt",  # chapter 01 reads result files
]

# Lower layers first. A module may import from its own layer and the ones before it, never from
# a later one (deferred imports inside functions included).
LAYERS = [
    {"errors", "paths", "logs", "registry", "processes", "threads", "cgroups"},
    {"config", "data", "metrics", "models", "optimizers", "runtime", "provenance", "augment",
     "data_versions",
     "plots", "uv_projects"},
    {"training"},
    {"tracking"},
    {"experiment"},
    {"audit", "sweeps", "search", "pruning", "notebook", "classroom"},
    {"course", "checks", "cli"},
]  # fmt: skip
PACKAGE = Path(reproml.__file__).parent


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return next(i for i, names in enumerate(LAYERS) if top in names)


def reproml_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("reproml.")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_layer():
    for path in PACKAGE.rglob("*.py"):
        if path.parent != PACKAGE or path.stem != "__init__":
            layer_of(module_name(path))  # StopIteration: add the new module to LAYERS


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{module_name(path)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if module_name(path) != "reproml"
        for name in sorted(reproml_imports(path))
        if layer_of(name) > layer_of(module_name(path))
    ]
    assert upward == []


@pytest.mark.parametrize("module", LIGHT)
def test_a_light_module_imports_no_torch(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
