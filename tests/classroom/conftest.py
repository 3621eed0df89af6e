"""Fixtures of the class-server tests; the runs they log are made in ``forgeries.py``."""

from pathlib import Path

import pytest


@pytest.fixture
def marker(tmp_path) -> Path:
    """A file a payload would create if it ever ran."""
    return tmp_path / "PAYLOAD_RAN"
