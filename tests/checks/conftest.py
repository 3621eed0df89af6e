import pytest

from reproml.checks import EXERCISES


@pytest.fixture
def evaluate():
    """Run exercise ``id``'s check on the given code; return (passed, message)."""

    def run(id: str, *code):
        result = EXERCISES[id].evaluate(*code)
        return result.passed, result.message

    return run
