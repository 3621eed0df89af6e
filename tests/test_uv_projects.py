"""The package folder of chapter 08: real wheels, the same bytes every time, that uv installs
offline; reading one entry of a lock."""

from __future__ import annotations

import os
import zipfile

import pytest

from reproml.base.errors import ReproMLError
from reproml_course.chapters.uv_projects import (
    DEMO_PACKAGES,
    lock_entry,
    run_uv,
    use_package_folder,
    write_demo_packages,
)


def test_the_wheels_are_the_same_bytes_each_time(tmp_path):
    first = write_demo_packages(tmp_path / "a")
    second = write_demo_packages(tmp_path / "b")
    names = sorted(p.name for p in first.iterdir())
    assert len(names) == sum(len(v) for v in DEMO_PACKAGES.values())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    with zipfile.ZipFile(first / "reproml_demo_greetings-2.0.0-py3-none-any.whl") as wheel:
        metadata = wheel.read("reproml_demo_greetings-2.0.0.dist-info/METADATA").decode()
        assert wheel.testzip() is None
    assert "Requires-Dist: reproml-demo-console; sys_platform == 'win32'" in metadata


def test_uv_locks_and_installs_them_offline(tmp_path, monkeypatch):
    for name in ("UV_NO_INDEX", "UV_FIND_LINKS", "UV_OFFLINE", "UV_PYTHON", "PATH", "NO_COLOR"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    use_package_folder(write_demo_packages(tmp_path / "packages"))
    run_uv("init", "--app", "--no-package", "--no-workspace", "demo", cwd=tmp_path)
    run_uv("add", "reproml-demo-greetings<2", cwd=tmp_path / "demo")
    entry = lock_entry(tmp_path / "demo" / "uv.lock", "reproml-demo-greetings")
    assert 'version = "1.1.0"' in entry
    assert "marker = \"sys_platform == 'win32'\"" in entry
    said = run_uv("run", "python", "-c", "import reproml_demo_greetings as g; print(g.hello('x'))",
                  cwd=tmp_path / "demo")  # fmt: skip
    assert "Hello x, from reproml-demo-greetings 1.1.0" in said
    with pytest.raises(ReproMLError, match="`uv add reproml-demo-nothing` failed"):
        run_uv("add", "reproml-demo-nothing", cwd=tmp_path / "demo")
    with pytest.raises(ReproMLError, match="reproml-demo-units is not in"):
        lock_entry(tmp_path / "demo" / "uv.lock", "reproml-demo-units")
