"""``python -m reproml_course.classroom.mlflow_serve <mlflow server options>``: MLflow's own
``mlflow server``, whose process *becomes* the web server instead of waiting beside it.

``mlflow server`` prepares the server's configuration (environment variables, the uvicorn
command), starts uvicorn as a child and then only waits for it: an idle Python process holding
MLflow's imports, about 250 MB of a 2 GB Binder measured beside the MLflow tile (the launcher 23
MB, uvicorn 248 MB). Here the CLI runs as usual up to the start of uvicorn, which replaces it
(``os.execve``) with the same command and environment. Where MLflow no longer starts its server
through ``mlflow.server._exec_cmd`` (a later version), it runs exactly as ``mlflow server``.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _become(cmd: list[Any], *, extra_env: dict[str, str] | None = None, **_: Any) -> None:
    """What ``_run_server`` hands ``_exec_cmd`` to start and wait for: run it in this process."""
    words = [str(word) for word in cmd]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(words[0], words, {**os.environ, **(extra_env or {})})


def main() -> None:
    import mlflow.server
    from mlflow.cli import cli

    if callable(getattr(mlflow.server, "_exec_cmd", None)):
        mlflow.server._exec_cmd = _become
    cli.main(args=["server", *sys.argv[1:]], prog_name="mlflow")


if __name__ == "__main__":
    main()
