"""The benchmarks still start: a stale import (a function that moved) shows here, not months
later when someone wants the numbers. Each runs with --help, which parses and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# binder_memory.py runs from a Python of its own (Selenium); startup.py measures as it starts.
WITH_HELP = sorted(
    p.name for p in BENCHMARKS.glob("*.py") if p.name not in {"binder_memory.py", "startup.py"}
)


@pytest.mark.slow
@pytest.mark.parametrize("name", WITH_HELP)
def test_a_benchmark_starts(name):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), "--help"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.startswith("usage:")
