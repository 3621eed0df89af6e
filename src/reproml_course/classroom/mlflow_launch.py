"""``python -m reproml_course.classroom.mlflow_launch PORT -- <mlflow server command>``: the MLflow
tile's process. It answers on PORT at once, and relays to MLflow as soon as MLflow is up.

jupyter-server-proxy waits for a proxied server by trying its port after pauses that double
(0.01 s ... 10 s, 20 s, 41 s). MLflow takes about 10 s to start on 2 cores, a little more on a
busy Binder: the try that finds it comes 10 to 40 s after it is up, with a blank tab meanwhile.
This launcher listens on PORT itself, starts MLflow on a private port, and answers each
connection with a page that reloads every second ("MLflow is starting") until MLflow accepts,
then passes bytes both ways. Standard library only, one thread: about 15 MB.

When MLflow dies (the out-of-memory killer's first choice on a 2 GB Binder), the launcher
starts it again and shows the same page meanwhile: without it, the tile answered 500 until
Jupyter restarted. A server that dies again and again (``RESTARTS`` times within a minute: a
broken store, a port taken) is given up, and the launcher exits with its status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

from reproml_course.base.processes import descendants, free_port

# The word of the command replaced by MLflow's own port (jupyter-server-proxy formats every word
# with str.format, so it cannot be written in braces).
PRIVATE_PORT = "PRIVATE_PORT"
STARTING = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Retry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    # location.reload(), not <meta http-equiv=refresh>: the tile's address ends in #/experiments,
    # and a refresh to an address with a fragment is a jump within the page, not a new request.
    b"<!doctype html><title>MLflow</title><script>setTimeout(() => location.reload(), 1000)"
    b"</script>"
    b"<p style='font-family: sans-serif; margin: 2em'>MLflow is starting "
    b"(10 to 30 seconds the first time)...</p>"
)


# The tile's first page, served here: MLflow's UI keeps its choices in the browser's
# localStorage (``<key>_v<version>``, JSON values), so the page sets them on MLflow's own origin
# and goes on to the experiments. Without it, MLflow 3.17 opens an experiment on its GenAI
# "Overview" (traces, token cost) whatever the link's workflowType, and its Assistant panel (an
# LLM chat) opens on every page; its usage telemetry is sent from the browser too.
START_PATH = b"/reproml-start"
UI_SETTINGS = {
    "mlflow.workflowType_v1": "machine_learning",
    "mlflow.assistant.panelOpen_v1": False,
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": True,
    "mlflow.settings.telemetry.enabled_v1": False,
    "mlflow.telemetry.info.alert.dismissed_v1": True,
}
START = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
    b"Connection: close\r\n\r\n<!doctype html><title>MLflow</title><script>"
    b"const settings = " + json.dumps(UI_SETTINGS).encode() + b";"
    b"for (const [key, value] of Object.entries(settings)) {"
    b" try { localStorage.setItem(key, JSON.stringify(value)); } catch (error) {} }"
    b"const experiment = new URLSearchParams(location.search).get('experiment');"
    b"location.replace('./#/experiments' + (experiment ? '/' + encodeURIComponent(experiment)"
    b" + '/runs' : '') + '?workflowType=machine_learning');</script>"
)


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def relay(port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        first = await asyncio.wait_for(reader.read(65536), 30)  # the request's first bytes
    except (TimeoutError, ConnectionError, OSError):
        writer.close()
        return
    method, _, target = first.partition(b" ")
    if method == b"GET" and target.split(b" ")[0].split(b"?")[0] == START_PATH:
        await answer(writer, START)
        return
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:  # MLflow is not listening yet
        await answer(writer, STARTING)
        return
    upstream_writer.write(first)
    await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))


async def answer(writer: asyncio.StreamWriter, response: bytes) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(response)
        await writer.drain()
    writer.close()


RESTARTS = 5  # deaths within a minute after which the launcher gives up


class Supervised:
    """MLflow's process, started again when it dies, until it has died RESTARTS times within
    a minute (then ``check`` answers False)."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.deaths: list[float] = []
        self.process = subprocess.Popen(command)  # in Jupyter's process group, as before
        self.tree: list[int] = []  # the processes it started, seen while it was alive

    def check(self) -> bool:
        """Whether a server is (again) running."""
        if self.process.poll() is None:
            self.tree = descendants(self.process.pid)[1:]
            return True
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < 60] + [now]
        if len(self.deaths) > RESTARTS:
            return False
        print(
            f"MLflow stopped (status {self.process.returncode}): starting it again.",
            file=sys.stderr,
        )
        for pid in self.tree:  # an orphaned uvicorn would hold the port the new one needs
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = subprocess.Popen(self.command)
        return True


async def serve(port: int, private_port: int, mlflow: Supervised) -> None:
    server = await asyncio.start_server(lambda r, w: relay(private_port, r, w), "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        while not stop.is_set() and mlflow.check():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    port, command = int(argv[0]), argv[2:]
    private_port = free_port()
    command = [str(private_port) if word == PRIVATE_PORT else word for word in command]
    mlflow = Supervised(command)
    try:
        asyncio.run(serve(port, private_port, mlflow))
    finally:
        stop_tree(mlflow.process)
    return mlflow.process.returncode or 0


def stop_tree(process: subprocess.Popen) -> None:
    """SIGTERM to the process and everything it started (MLflow's CLI starts uvicorn)."""
    for pid in reversed(descendants(process.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
