"""One plugin run: a subprocess under the memory and time limits, its output streamed as logs.

The child (:mod:`.child`) gets the run's description on stdin and writes one JSON line
``{"level", "content"}`` per log record, ``print`` line or traceback. Lines are stamped when
they arrive and handed to ``sink`` in batches (at most every ``FLUSH_S`` seconds), so a
tailing reader sees a long run's progress, and what a killed run printed is kept. A run's
output is capped at ``PluginLimits.max_log_bytes``; past it, one entry says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..settings import PluginLimits
from ..store.db import now
from .confine import Box

Line = tuple[str, str, str]  # level, content, created_at
Sink = Callable[[list[Line]], Awaitable[None]]

FLUSH_S = 0.2
MAX_LINE = 1024 * 1024  # bytes of one output line
EXIT_RAISED, EXIT_MEMORY = 1, 3
# The child runs by path, not ``-m``: importing the ``aiokili.server`` package (Starlette,
# ariadne, uvicorn) would add ~0.1 s to every run; ``run_path`` (unlike ``python file``)
# does not put this folder, whose ``http.py`` would shadow the stdlib's, on sys.path.
_CHILD = Path(__file__).with_name("child.py")
_CHILD_BOOT = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"


class _Output:
    """Collects a run's lines, capped, and flushes them to the sink in batches."""

    def __init__(self, sink: Sink, max_bytes: int) -> None:
        self.sink, self.left = sink, max_bytes
        self.pending: list[Line] = []
        self.last_flush = time.monotonic()
        self.truncated = False

    def add(self, level: str, content: str, *, always: bool = False) -> None:
        """Keep a line; past the cap, only the ``always`` ones (the run's outcome)."""
        if always:
            self.pending.append((level, content[:65536], now()))
            return
        if self.truncated:
            return
        self.left -= len(content)
        if self.left < 0:
            self.truncated = True
            content = "Output truncated: the run wrote more than the log limit."
            level = "WARNING"
        self.pending.append((level, content, now()))

    async def flush(self, *, force: bool = False, last: Sink | None = None) -> None:
        """Hand the pending lines to the sink (to ``last``: the run's last lines)."""
        if (self.pending or last) and (force or time.monotonic() - self.last_flush >= FLUSH_S):
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            await (last or self.sink)(batch)


@dataclass
class _Spawned:
    """A started run: its pid (it leads its own process group) and output pipes."""

    pid: int
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader
    process: asyncio.subprocess.Process | None = None  # None: forked by the zygote
    transports: tuple[asyncio.BaseTransport, ...] = ()

    def kill(self) -> None:
        """SIGKILL the run's process group (its box kills the rest: ``Box.kill``)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    def alive(self) -> bool:
        """Whether the run's first process is still there (the zygote reaps its runs)."""
        if self.process is not None:
            return self.process.returncode is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def close(self) -> None:
        for transport in self.transports:
            transport.close()


class Zygote:
    """A warm process with aiokili imported, forking one child per run (~10 ms instead of a
    fresh interpreter's ~0.5 s). Used for plugins that need no packages of their own ahead of
    the server's (those start a fresh interpreter). Started on first use, restarted if it
    died, stopped with the service."""

    def __init__(self) -> None:
        self._channel: socket.socket | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def spawn(self, src: Path, job: dict[str, Any], env: dict[str, str]) -> _Spawned:
        async with self._lock:
            if self._process is None or self._process.returncode is not None:
                await self._start()
            assert self._channel is not None
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            request = json.dumps({"src": str(src), "job": job, "env": env}).encode()
            try:
                pid = await asyncio.to_thread(self._ask, request, [out_w, err_w])
            except OSError:
                for fd in (out_r, err_r):
                    os.close(fd)
                self.stop()
                raise
            finally:
                os.close(out_w)
                os.close(err_w)
        loop = asyncio.get_running_loop()
        readers, transports = [], []
        for fd in (out_r, err_r):
            reader = asyncio.StreamReader(limit=2**20)
            factory = functools.partial(asyncio.StreamReaderProtocol, reader)
            transport, _ = await loop.connect_read_pipe(factory, os.fdopen(fd, "rb", 0))
            readers.append(reader)
            transports.append(transport)
        return _Spawned(pid, readers[0], readers[1], transports=tuple(transports))

    def _ask(self, request: bytes, fds: list[int]) -> int:
        assert self._channel is not None
        socket.send_fds(self._channel, [len(request).to_bytes(4, "big")], fds)
        self._channel.sendall(request)
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = self._channel.recv(64)
            if not chunk:
                raise OSError("the plugin zygote closed its channel")
            answer += chunk
        if not int(answer):
            raise OSError("the plugin zygote refused the request")
        return int(answer)

    async def _start(self) -> None:
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", _CHILD_BOOT, str(_CHILD), "--zygote", str(theirs.fileno())),
            pass_fds=[theirs.fileno()],
            env=_base_env([], {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}),
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._channel = ours

    def stop(self) -> None:
        """Stop the zygote (its runs are killed by their own deadlines or the service)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        self._process = None


def _base_env(first: list[str], env: dict[str, str]) -> dict[str, str]:
    """``env`` and the import path: ``first``, then the server's own ``PYTHONPATH`` (a path:
    the one variable of the server's that a run gets)."""
    inherited = os.environ.get("PYTHONPATH")
    return {**env, "PYTHONPATH": os.pathsep.join([*first, *([inherited] if inherited else [])])}


async def _spawn_fresh(
    src: Path, first: list[str], job: dict[str, Any], env: dict[str, str]
) -> _Spawned:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", _CHILD_BOOT, str(_CHILD), str(src)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_base_env(first, env),
        cwd=str(src),
        start_new_session=True,
    )
    assert process.stdin and process.stdout and process.stderr
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    return _Spawned(process.pid, process.stdout, process.stderr, process)


async def run_handler(
    src: Path,
    import_path: tuple[list[str], list[str]],
    job: dict[str, Any],
    env: dict[str, str],
    limits: PluginLimits,
    sink: Sink,
    zygote: Zygote | None = None,
    *,
    box: Box,
    final: Sink | None = None,
) -> None:
    """Run ``job["method"]`` of the plugin in ``src``; every line it says goes to ``sink``,
    the last ones (its summary) to ``final`` if given.

    ``import_path``: folders before and after the server's packages on the run's sys.path.
    With a ``zygote``, a plugin with nothing ahead of the server's packages is forked from
    it; otherwise (or if the zygote fails) a fresh interpreter runs it. ``box`` contains the
    run (:mod:`.confine`); ``env`` is all the run's environment besides the box's. Once its
    first process ends (or is killed), every process it started is killed.
    """
    first, last = import_path
    own = [src.parent, *(Path(p) for p in (*first, *last))]
    job = {**job, "memoryMb": limits.memory_mb, "appendPath": last, "confine": box.spec(own)}
    env = {**box.env(), **env}
    output = _Output(sink, limits.max_log_bytes)
    started = time.monotonic()
    run = await _spawn(src, first, job, env, zygote)
    stderr = asyncio.ensure_future(_read_all(run.stderr, limits.max_log_bytes))
    try:
        code, killed = await _wait(
            run, output, limits.timeout_s, started + limits.timeout_s, box.out_of_memory
        )
    except BaseException:  # the server stops: no run outlives it
        run.kill()
        box.close_now()
        stderr.cancel()
        run.close()
        raise
    run.kill()
    out_of_memory = box.out_of_memory()
    await box.close()  # whatever the run started ends with it, setsid or not
    if run.process is not None:
        await run.process.wait()
    try:  # a process out of the box's reach (no cgroups) may hold stderr open
        err = (await asyncio.wait_for(stderr, 2.0)).decode(errors="replace").strip()
    except asyncio.TimeoutError:
        err = ""
    run.close()
    if err:
        output.add("ERROR", err[-65536:], always=True)
    failure = _failure(killed, code, limits, out_of_memory)
    if failure is not None:
        output.add("ERROR", failure, always=True)
    ok = code == 0 and not killed
    outcome = "finished" if ok else f"failed (exit code {code})"
    took = time.monotonic() - started
    summary = f"Run {job['method']} {outcome} in {took:.2f} s."
    output.add("INFO" if ok else "ERROR", summary, always=True)
    await output.flush(force=True, last=final)


async def _spawn(
    src: Path, first: list[str], job: dict[str, Any], env: dict[str, str], zygote: Zygote | None
) -> _Spawned:
    """Fork the run from the zygote when there is one and nothing goes ahead of the
    server's packages; otherwise (or if the zygote fails) start a fresh interpreter."""
    if zygote is not None and not first:
        with contextlib.suppress(OSError):
            return await zygote.spawn(src, job, env)
    return await _spawn_fresh(src, first, job, env)


async def _wait(
    run: _Spawned,
    output: _Output,
    timeout_s: float,
    deadline: float,
    over: Callable[[], bool],
) -> tuple[int | None, bool]:
    """Stream the run's output (for ``timeout_s`` at most) until it ends or is ``over``
    (its memory cap was hit): its exit code, and whether it is over its time limit (still
    running at ``deadline``, a ``time.monotonic()``: to be killed; the code is then the last
    one it reported)."""
    code = None
    with contextlib.suppress(asyncio.TimeoutError):
        code = await asyncio.wait_for(_stream(run, output, over), timeout_s)
    if over():
        return code, False
    remaining = deadline - time.monotonic()
    if run.process is None:
        return code, remaining <= 0
    try:
        await asyncio.wait_for(run.process.wait(), max(remaining, 0.01))
    except asyncio.TimeoutError:
        return code, True
    return run.process.returncode, False


def _failure(
    killed: bool, code: int | None, limits: PluginLimits, out_of_memory: bool
) -> str | None:
    """Why the run failed, when its code says more than "it raised" (None: it did not)."""
    if out_of_memory:  # first: a run whose processes were killed may then hang
        return (
            f"Run killed: over the memory limit of {limits.memory_mb} MB "
            "(all its processes together)."
        )
    if killed:
        return f"Run killed: over the time limit of {limits.timeout_s:g} s."
    if code == EXIT_MEMORY:
        return f"Run killed: over the memory limit of {limits.memory_mb} MB."
    if code not in (0, EXIT_RAISED):
        return f"Run ended with exit code {code}."
    return None


async def _stream(run: _Spawned, output: _Output, over: Callable[[], bool]) -> int | None:
    """Read the child's JSON lines until it reports its exit code, closes stdout or ends
    (a process it started may hold stdout open), flushing as they come; the exit code the
    child reported (None: it ended without one)."""
    stream = run.stdout
    buffer, skipping = b"", False  # skipping: the rest of a line longer than MAX_LINE
    code: list[int] = []
    ending = False  # it ended (or is over): read what it wrote before, then stop
    while not code:
        try:
            chunk = await asyncio.wait_for(stream.read(65536), FLUSH_S)
        except asyncio.TimeoutError:
            await output.flush()
            if ending:
                break
            ending = not run.alive() or over()
            continue
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not skipping:
                _parse(line.decode(errors="replace"), output, code)
            skipping = False
        if len(buffer) > MAX_LINE:
            if not skipping:
                output.add("WARNING", f"A line of over {MAX_LINE:,} bytes was dropped.")
            buffer, skipping = b"", True
        await output.flush()
    if buffer and not skipping:
        _parse(buffer.decode(errors="replace"), output, code)
    return code[-1] if code else None


def _parse(line: str, output: _Output, code: list[int]) -> None:
    try:
        item = json.loads(line)
        if isinstance(item, dict) and isinstance(item.get("exit"), int):
            code.append(item["exit"])
            return
        output.add(str(item["level"]), str(item["content"]))
    except (ValueError, KeyError, TypeError):
        if line.strip():
            output.add("INFO", line)


async def _read_all(stream: asyncio.StreamReader, cap: int) -> bytes:
    """Everything ``stream`` says, keeping the first ``cap`` bytes."""
    chunks, kept = [], 0
    while chunk := await stream.read(65536):
        if kept < cap:
            chunks.append(chunk[: cap - kept])
            kept += len(chunks[-1])
    return b"".join(chunks)
