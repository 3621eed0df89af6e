"""Where the course keeps its own things: its notebooks' folders, its lock file, and how big
the data set a notebook finds is (``reproml.base.paths`` has the project's: repository, conf/,
data).
"""

from __future__ import annotations

from pathlib import Path

import reproml_course
from reproml.base.paths import TRAIN_FILES, raw_folder, repository_root

__all__ = ["count_training_images", "course_dir", "course_lock", "repository_root"]

LANGUAGE_ENV = "REPROML_LANG"  # the checks' language: see reproml_course.base.messages
QUICK_ENV = "REPROML_QUICK"  # "1": the chapters train briefly (quick mode)
# For kernels started from code (grading, papermill): no warning about local TCP on every start.
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def course_dir(name: str) -> Path:
    """``solutions/`` or ``notebooks/`` at the repository root (or under the working directory)."""
    return (repository_root() or Path.cwd()) / name


def count_training_images(root: Path) -> int | None:
    """The number of images the training file holds, read from its IDX header (bytes 4-8),
    or None where there is no such file yet (torchvision downloads it at the first run)."""
    try:
        with open(raw_folder(root) / TRAIN_FILES[0], "rb") as images:
            header = images.read(8)
    except OSError:
        return None
    return int.from_bytes(header[4:8], "big") if len(header) == 8 else None


def course_lock() -> Path:
    """The course's ``uv.lock``: the repository's, or the copy inside an installed package."""
    root = repository_root()
    installed = Path(reproml_course.__file__).parent / "uv.lock"
    return root / "uv.lock" if root is not None else installed
