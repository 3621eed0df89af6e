"""``reproml-course execute``: run the solutions in place, so readers see outputs and figures.

A notebook is written back only when every cell ran: a failure leaves the file as it was.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from reproml.course.notebooks import (
    kernel_environment,
    notebook_client,
    read_notebook,
    tidy_metadata,
    write_notebook,
)
from reproml.errors import ReproMLError


def execute_in_place(path: Path, quick: bool = False, timeout: int = 1200) -> float:
    """Execute ``path`` in its own folder and save it with its outputs; return the seconds."""
    from nbclient.exceptions import CellExecutionError

    nb = read_notebook(path)
    client = notebook_client(nb, path, timeout, store_widget_state=False)
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment(quick))
    except CellExecutionError as error:
        summary = re.sub(r"\x1b\[[0-9;]*m", "", str(error).strip().splitlines()[-1])
        raise ReproMLError(f"{path.name} failed, left unchanged: {summary}") from None
    write_notebook(tidy_metadata(nb), path)
    return time.perf_counter() - start
