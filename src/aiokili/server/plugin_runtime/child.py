"""The process one plugin run lives in: ``python -c <run_path boot> child.py <src>``.

The run's description (``{"method", "label", "assetId", "projectId", "memoryMb"}``) comes
on stdin. (``--zygote <fd>``: a warm process that imports aiokili once and forks one child
per run requested on the socket ``fd``; see ``process.Zygote``.) Before importing the plugin
the run is confined (:mod:`.sandbox`: cgroups, limits, Landlock, no root; without a spec,
only the memory cap ``RLIMIT_AS``); then
``PluginHandler(kili, project_id, logger)`` is built and its handler called. Every log
record, every ``print`` and any exception (with its traceback) leaves as one JSON line
``{"level", "content"}`` on the original stdout, which the server turns into log entries.
Exit codes: 0 done, 1 the handler raised, 3 over the memory limit, 4 the plugin failed to load
(or could not be confined: ``sandbox.confine`` runs first, when the job has a ``confine``
spec).

``self.kili`` is an official ``kili.Kili`` when the handler's ``PluginCore`` comes from the
``kili`` package, else an ``aiokili.AsyncKili``; both reach the server through
``KILI_API_ENDPOINT`` / ``KILI_API_KEY``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.util
import inspect
import io
import json
import logging
import os
import resource
import signal
import socket
import sys
import traceback
from typing import IO, Any

EXIT_RAISED, EXIT_MEMORY, EXIT_LOAD = 1, 3, 4


class _Lines(io.TextIOBase):
    """A text stream whose lines become log entries of one level."""

    def __init__(self, out: IO[str], level: str) -> None:
        self._out, self._level, self._buffer = out, level, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            emit(self._out, self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            emit(self._out, self._level, self._buffer)
            self._buffer = ""


def emit(out: IO[str], level: str, content: str) -> None:
    out.write(json.dumps({"level": level, "content": content}) + "\n")
    out.flush()


class _Handler(logging.Handler):
    def __init__(self, out: IO[str]) -> None:
        super().__init__()
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        emit(self._out, record.levelname, self.format(record))


def _official(handler_class: type) -> bool:
    """Whether the handler's base class comes from the official ``kili`` package."""
    return any(base.__module__.split(".")[0] == "kili" for base in handler_class.__mro__)


async def _call(handler_class: type, kili: Any, job: dict[str, Any], logger: Any) -> None:
    handler = handler_class(kili, job["projectId"], logger)
    method = getattr(handler, job["method"])
    if job["method"] == "on_send_back_to_queue":
        result = method(job["assetId"])
    elif job["method"] == "on_event":  # eventMatcher plugins: the whole kili event
        result = method(job["event"])
    else:
        result = method(job["label"], job["assetId"])
    if inspect.isawaitable(result):
        await result


async def _run(job: dict[str, Any], logger: logging.Logger) -> None:
    import main  # type: ignore[import-not-found]  # the plugin's entry point

    handler_class = main.PluginHandler
    endpoint, key = os.environ["KILI_API_ENDPOINT"], os.environ["KILI_API_KEY"]
    if _official(handler_class):
        kili = importlib.import_module("kili.client").Kili(api_key=key, api_endpoint=endpoint)
        await _call(handler_class, kili, job, logger)
        return
    import aiokili

    async with aiokili.AsyncKili(api_key=key, api_endpoint=endpoint) as client:
        await _call(handler_class, client, job, logger)


def _out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, also when wrapped in an exception group (task groups)."""
    inner: Any = getattr(exc, "exceptions", None)  # BaseExceptionGroup (3.11+ / anyio)
    if isinstance(inner, tuple):
        return any(isinstance(e, BaseException) and _out_of_memory(e) for e in inner)
    return isinstance(exc, MemoryError)


def _traceback(exc: BaseException, src: str) -> str:
    """The traceback from the plugin's own first frame on (not the runner's or asyncio's)."""
    tb = exc.__traceback__
    while tb is not None and not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(
        os.path.abspath(src) + os.sep
    ):
        tb = tb.tb_next
    shown = tb if tb is not None else exc.__traceback__
    return "".join(traceback.format_exception(type(exc), exc, shown)).rstrip()


@functools.lru_cache(maxsize=1)
def _sandbox() -> Any:
    """``sandbox.py`` (beside this file), loaded by path as this file is."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox.py")
    spec = importlib.util.spec_from_file_location("aiokili_plugin_sandbox", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execute(job: dict[str, Any], src: str) -> int:
    """Run one job with stdout (fd 1) as the JSON-line channel; the exit code."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = _Lines(out, "INFO")
    sys.stderr = _Lines(out, "ERROR")
    if job.get("confine"):  # the run's cgroups, limits, Landlock, no root: before its code
        try:
            _sandbox().confine(job["confine"])
        except (OSError, ValueError) as exc:
            emit(out, "ERROR", f"The run could not be confined, so it did not start: {exc}")
            out.write(json.dumps({"exit": EXIT_LOAD}) + "\n")
            out.flush()
            return EXIT_LOAD
    else:
        limit = int(job["memoryMb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logger = logging.getLogger(f"plugin.{job.get('pluginName', 'plugin')}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(_Handler(out))
    logger.propagate = False
    sys.path.insert(0, src)
    sys.path.extend(job.get("appendPath") or [])  # after the server's packages
    code = 0
    try:
        asyncio.run(_run(job, logger))
    except BaseException as exc:  # the plugin's error, shown with its traceback
        if _out_of_memory(exc):
            code = EXIT_MEMORY
        else:
            emit(out, "ERROR", _traceback(exc, src))
            code = EXIT_RAISED
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    if (job.get("confine") or {}).get("sweep"):
        _sandbox().sweep()
    out.write(json.dumps({"exit": code}) + "\n")
    out.flush()
    return code


def _exactly(channel: socket.socket, size: int, start: bytes = b"") -> bytes:
    data = start
    while len(data) < size:
        chunk = channel.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def zygote(channel: socket.socket) -> None:
    """Serve runs by forking this warm process (aiokili already imported). A request is a
    4-byte length then a JSON job, with the run's stdout and stderr pipes attached to the
    length; the answer, the run's pid and a newline (0: the request was unusable)."""
    import aiokili  # imported once here, inherited by every run
    import aiokili.plugins

    # a client built (no request is made) loads what it imports lazily (httpcore, ssl)
    aiokili.AsyncKili(api_key="warm-up", api_endpoint="http://127.0.0.1:9/warm-up")
    _sandbox()  # loaded once, inherited by every run

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runs are reaped at once
    while True:
        try:
            head, fds, _, _ = socket.recv_fds(channel, 4, 2)
            if not head:
                return  # the server closed the channel
            size = int.from_bytes(_exactly(channel, 4, head), "big")
            request = json.loads(_exactly(channel, size))
        except EOFError:
            return
        except ValueError:  # never dies of one bad request
            for fd in fds:
                os.close(fd)
            channel.sendall(b"0\n")
            continue
        pid = os.fork()
        if pid == 0:  # the run
            try:
                channel.close()
                os.setsid()
                os.dup2(fds[0], 1)
                os.dup2(fds[1], 2)
                for fd in fds:
                    os.close(fd)
                os.chdir(request["src"])
                os.environ.clear()  # the run's variables only
                os.environ.update(request["env"])
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                code = execute(request["job"], request["src"])
            except BaseException:
                code = EXIT_LOAD
            os._exit(code)
        for fd in fds:
            os.close(fd)
        channel.sendall(f"{pid}\n".encode())


def main() -> int:
    if sys.argv[-2] == "--zygote":  # argv: ["-c", <this file>, "--zygote", <fd>]
        zygote(socket.socket(fileno=int(sys.argv[-1])))
        return 0
    return execute(json.loads(sys.stdin.read()), sys.argv[-1])


if __name__ == "__main__":
    sys.exit(main())
