"""Evaluating students' weights apart from the leaderboard: a worker process with limits.

The worker is started with a clean environment (no MLflow or admin credentials, pickle loading
off for torch and MLflow), reads the instructor's whole test set once, then answers one request
per model on its standard input: build the course model the run's parameters name, copy the
weights into it (raw tensors, see ``model_files``), count the test images it gets right. Its
memory is capped (``RLIMIT_AS``) and each request has a limit of CPU time (``RLIMIT_CPU``: the
same verdict on a busy server as on a quiet one, where a wall-clock limit would flag honest
models whenever the machine is loaded): a model that is too big, too slow or crashes the worker
is flagged, the worker is started again, and the leaderboard goes on. The worker is
``evaluator_worker``.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from dataclasses import dataclass

from reproml.base.errors import ReproMLError
from reproml_course.classroom.model_files import Rejected, Weights

# The variables the worker inherits: nothing that names a server, a user or a password.
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH", "SYSTEMROOT")
SAFE_ENV = {
    "TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1",  # any torch.load stays weights-only
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
    "MALLOC_ARENA_MAX": "2",  # per-thread malloc arenas would eat the address-space limit
    "OMP_NUM_THREADS": "2",
    # Idle OpenMP threads sleep rather than spin: spinning is CPU time against the limit, and on
    # a busy machine it took an honest CNN from 0.9 to 1.7 s of it for 2,000 images.
    "OMP_WAIT_POLICY": "PASSIVE",
}
WORKER = "reproml_course.classroom.evaluator_worker"  # run with python -m, never imported here


@dataclass(frozen=True)
class Limits:
    seconds: float = 60.0  # CPU time (all threads) to build, load and evaluate one model
    memory_bytes: int = 1 << 30  # above what the worker holds with torch and the test set
    model_bytes: int = 100_000_000  # the size of the model file


class Evaluator:
    """The parent's side: ``with Evaluator(root, limits) as e: e.evaluate(weights, model)``."""

    def __init__(self, data_root: str | os.PathLike[str] | None, limits: Limits) -> None:
        self.data_root, self.limits = data_root, limits
        self.process: subprocess.Popen | None = None
        self.test_images = 0
        self.test_set_sha256 = ""

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker (once) and wait until it has read the test set."""
        if self.process is not None and self.process.poll() is None:
            return
        from reproml.base.paths import resolve_data_root

        root = str(resolve_data_root(self.data_root))
        env = {k: v for k, v in os.environ.items() if k in KEPT_ENV} | SAFE_ENV
        env["HOME"] = os.environ.get("TMPDIR", "/tmp")
        self.process = subprocess.Popen(
            [sys.executable, "-m", WORKER, root, str(self.limits.memory_bytes),
             str(self.limits.seconds)],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        ready = self._answer(timeout=300)
        if ready is None or "error" in ready:
            self.close()
            raise ReproMLError((ready or {}).get("error") or "The evaluation worker did not start.")
        self.test_images, self.test_set_sha256 = ready["test_images"], ready["sha256"]

    def evaluate(self, weights: Weights, model: dict) -> tuple[int, str]:
        """How many test images the model gets right, and a digest of its answers (the class
        it gives each image); Rejected when it cannot tell."""
        self.start()
        request = {**weights.as_request(), "model": model}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._answer(timeout=self.wall_seconds)
        if answer is None:
            ended = self._exit_code()  # None: alive, past the wall-clock backstop
            self.close()
            if ended == -signal.SIGXCPU:
                raise Rejected(
                    f"evaluating it took more than the {self.limits.seconds:g} s limit of CPU time"
                )
            if ended is not None:  # the out-of-memory killer's SIGKILL included
                raise Rejected("evaluating it crashed the worker (over the memory limit?)")
            raise Rejected(
                f"evaluating it took longer than {self.wall_seconds:g} s of wall time "
                "(the machine is far too busy, or the model too slow)"
            )
        if "problem" in answer:
            if answer.get("restart"):
                self.close()
            raise Rejected(answer["problem"])
        return int(answer["correct"]), str(answer["predictions_sha256"])

    @property
    def wall_seconds(self) -> float:
        """A backstop only: the CPU-time limit decides, unless the machine is starved."""
        return max(300.0, 10 * self.limits.seconds)

    def _answer(self, timeout: float) -> dict | None:
        """The worker's next line, or None if it said nothing in time or died."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                return None
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def _exit_code(self) -> int | None:
        """The worker's exit code; a worker whose output just ended gets a second to be reaped."""
        try:
            return self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
            self.process = None
