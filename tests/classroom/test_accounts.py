"""The accounts file is checked whole before anything is created on the server."""

import pytest

from reproml.base.errors import ReproMLError
from reproml_course.classroom.accounts import Account, read_accounts, team_experiment


def test_a_valid_file_with_and_without_teams(tmp_path):
    path = tmp_path / "students.csv"
    path.write_text(
        "username,password,team\nalice,alice-long-password,red\nbob,bob-long-password,\n"
    )
    assert read_accounts(path) == [
        Account("alice", "alice-long-password", "red"),
        Account("bob", "bob-long-password", "bob"),  # a team of one
    ]
    assert team_experiment("red") == "competition/red"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("username,password\nalice,short\n", "line 2: the password must have 12 characters"),
        ("user,pass\nalice,long-enough-password\n", "needs a header line with the columns"),
        ("username,password\na b,long-enough-password\n", "username 'a b' must be letters"),
        (
            "username,password\nalice,long-enough-password\nalice,long-enough-password\n",
            "line 3: username 'alice' appears twice",
        ),
        ("username,password\n", "needs a header line"),
    ],
)
def test_a_bad_file_is_one_message_naming_the_line(tmp_path, text, message):
    path = tmp_path / "students.csv"
    path.write_text(text)
    with pytest.raises(ReproMLError, match=message):
        read_accounts(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(ReproMLError, match="Cannot read"):
        read_accounts(tmp_path / "nope.csv")
