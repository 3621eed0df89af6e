"""What only reads stores, notebooks or the command line imports neither torch nor matplotlib:
the Jupyter server, the class server and the instructor's commands start in a second."""

import subprocess
import sys

import pytest

LIGHT = [
    "reproml.checks",  # each check imports what it needs when it runs
    "reproml.cli.course",
    "reproml.classroom.accounts",
    "reproml.classroom.admin",
    "reproml.classroom.evaluator",  # the parent's side; its worker imports torch itself
    "reproml.classroom.leaderboard",
    "reproml.classroom.model_files",
    "reproml.classroom.records",
    "reproml.classroom.server",
    "reproml.course.binder",
    "reproml.course.build",
    "reproml.course.execute",
    "reproml.course.grade",
    "reproml.course.launch",
    "reproml.course.mlflow_proxy",
    "reproml.tracking.stores",
    "reproml.tracking.sync",
]


@pytest.mark.parametrize("module", LIGHT)
def test_a_light_module_imports_no_torch(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
