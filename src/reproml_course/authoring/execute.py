"""``reproml-course execute``: run the solutions in place, so readers see outputs and figures.

A notebook is written back only when every cell ran: a failure leaves the file as it was.
Absolute paths in the outputs are written relative to the repository (``outputs/...``,
``../shared/data``) and the home folder as ``~``: committed outputs show no one's machine.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from nbformat import NotebookNode

from reproml.base.errors import ReproMLError
from reproml.base.paths import repository_root
from reproml_course.base.notebooks import (
    kernel_environment,
    notebook_client,
    notebook_language,
    read_notebook,
    tidy_metadata,
    write_notebook,
)


def execute_in_place(path: Path, quick: bool = False, timeout: int = 1200) -> float:
    """Execute ``path`` in its own folder and save it with its outputs; return the seconds."""
    from nbclient.exceptions import CellExecutionError

    nb = read_notebook(path)
    client = notebook_client(nb, path, timeout, store_widget_state=False)
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment(quick, notebook_language(nb), path))
    except CellExecutionError as error:
        summary = re.sub(r"\x1b\[[0-9;]*m", "", str(error).strip().splitlines()[-1])
        raise ReproMLError(f"{path.name} failed, left unchanged: {summary}") from None
    write_notebook(tidy_metadata(relative_paths(without_progress_bars(nb))), path)
    return time.perf_counter() - start


WIDGET = "application/vnd.jupyter.widget-view+json"
TQDM_LINE = re.compile(r"\d{1,3}%\|.*\| *\d+/\d+ \[")  # "epoch 1/3:  40%|███  | 96/240 ["


def without_progress_bars(nb: NotebookNode) -> NotebookNode:
    """Outputs as a reader wants them once the run is over: no progress bars, neither
    widgets (in the file, only their first frame, ``0%|...``) nor a terminal's bars in the
    output of ``!python ...`` cells (every redraw a line), and what a carriage return
    overwrote gone, as Jupyter shows it."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if WIDGET in output.get("data", {}):
                continue
            if output.get("output_type") == "stream":
                text = output.text.replace("\r\n", "\n")  # a pseudo-terminal's line ends
                lines = (line.rsplit("\r", 1)[-1] for line in text.split("\n"))
                output.text = "\n".join(line for line in lines if not TQDM_LINE.search(line))
                if not output.text.strip():
                    continue
            kept.append(output)
        cell["outputs"] = kept
    return nb


def relative_paths(nb: NotebookNode, root: Path | None = None) -> NotebookNode:
    """Rewrite the repository's absolute path (and its parent's, and home) in text outputs."""
    root = root or repository_root() or Path.cwd()
    replacements = [(f"{root}/", ""), (f"{root.parent}/", "../"), (f"{Path.home()}/", "~/")]
    replacements = [(old, new) for old, new in replacements if old != "//"]

    def rewrite(text: str) -> str:
        for old, new in replacements:
            text = text.replace(old, new)
        return text

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = rewrite(output.text)
            if "text/plain" in output.get("data", {}):
                output.data["text/plain"] = rewrite(output.data["text/plain"])
            if "traceback" in output:
                output.traceback = [rewrite(line) for line in output.traceback]
    return nb
