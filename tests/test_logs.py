from __future__ import annotations

import os

from reproml.base.env import environment


def test_environment_is_put_back_as_it_was(monkeypatch):
    monkeypatch.setenv("REPROML_TEST_SET", "user's")
    monkeypatch.delenv("REPROML_TEST_UNSET", raising=False)
    with environment({"REPROML_TEST_SET": "ours", "REPROML_TEST_UNSET": "ours"}):
        assert os.environ["REPROML_TEST_SET"] == os.environ["REPROML_TEST_UNSET"] == "ours"
    assert os.environ["REPROML_TEST_SET"] == "user's"
    assert "REPROML_TEST_UNSET" not in os.environ


def test_keep_users_leaves_what_the_user_set(monkeypatch):
    monkeypatch.setenv("REPROML_TEST_SET", "user's")
    monkeypatch.delenv("REPROML_TEST_UNSET", raising=False)
    with environment({"REPROML_TEST_SET": "ours", "REPROML_TEST_UNSET": "ours"}, keep_users=True):
        assert os.environ["REPROML_TEST_SET"] == "user's"
        assert os.environ["REPROML_TEST_UNSET"] == "ours"
    assert "REPROML_TEST_UNSET" not in os.environ
