"""The benchmarks still start: a stale import (a function that moved) shows here, not months
later when someone wants the numbers."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))
# Those with a command line: --help parses and exits (the others measure as soon as they start).
WITH_HELP = [name for name in SCRIPTS if "argparse" in (BENCHMARKS / name).read_text()]


@pytest.mark.parametrize("name", SCRIPTS)
def test_what_a_benchmark_imports_from_reproml_exists(name):
    tree = ast.parse((BENCHMARKS / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reproml"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{name}: {node.module}.{alias.name}"


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_HELP)
def test_a_benchmark_with_a_command_line_starts(name):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), "--help"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.startswith("usage:")
