"""One plugin run: a subprocess under the memory and time limits, its output streamed as logs.

The child (:mod:`plugin_child`) gets the run's description on stdin and writes one JSON line
``{"level", "content"}`` per log record, ``print`` line or traceback. Lines are stamped when
they arrive and handed to ``sink`` in batches (at most every ``FLUSH_S`` seconds), so a
tailing reader sees a long run's progress, and what a killed run printed is kept. A run's
output is capped at ``PluginLimits.max_log_bytes``; past it, one entry says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .db import now
from .settings import PluginLimits

Line = tuple[str, str, str]  # level, content, created_at
Sink = Callable[[list[Line]], Awaitable[None]]

FLUSH_S = 0.2
MAX_LINE = 1024 * 1024  # bytes of one output line
EXIT_RAISED, EXIT_MEMORY = 1, 3
# The child runs by path, not ``-m``: importing the ``aiokili.server`` package (Starlette,
# ariadne, uvicorn) would add ~0.1 s to every run; ``run_path`` (unlike ``python file``)
# does not put this folder, whose ``http.py`` would shadow the stdlib's, on sys.path.
_CHILD = Path(__file__).with_name("plugin_child.py")
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

    async def flush(self, force: bool = False) -> None:
        if self.pending and (force or time.monotonic() - self.last_flush >= FLUSH_S):
            batch, self.pending = self.pending, []
            self.last_flush = time.monotonic()
            await self.sink(batch)


async def run_handler(
    src: Path,
    import_path: tuple[list[str], list[str]],
    job: dict[str, Any],
    env: dict[str, str],
    limits: PluginLimits,
    sink: Sink,
) -> None:
    """Run ``job["method"]`` of the plugin in ``src``; every line it says goes to ``sink``.

    ``import_path``: folders before and after the server's packages on the run's sys.path.
    """
    first, last = import_path
    inherited = os.environ.get("PYTHONPATH")
    child_env = {
        **os.environ, **env,
        "PYTHONPATH": os.pathsep.join([*first, *([inherited] if inherited else [])]),
        "PYTHONUNBUFFERED": "1",
        # RLIMIT_AS counts address space: glibc's per-thread 64 MiB malloc arenas would eat
        # the cap of a run that starts a few threads (HTTP, DNS)
        "MALLOC_ARENA_MAX": "2",
    }  # fmt: skip
    output = _Output(sink, limits.max_log_bytes)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD_BOOT, str(_CHILD), str(src),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=child_env, cwd=str(src), start_new_session=True,
    )  # fmt: skip
    assert process.stdin is not None
    job = {**job, "memoryMb": limits.memory_mb, "appendPath": last}
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    stderr = asyncio.ensure_future(_read_all(process.stderr, limits.max_log_bytes))
    killed = False
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_stream(process.stdout, output), limits.timeout_s)
        remaining = limits.timeout_s - (time.monotonic() - started)
        await asyncio.wait_for(process.wait(), max(remaining, 0.01))
    except asyncio.TimeoutError:
        killed = True
        _kill_group(process)
        await process.wait()
    except BaseException:  # the server stops: no run outlives it
        _kill_group(process)
        stderr.cancel()
        raise
    err = (await stderr).decode(errors="replace").strip()
    if err:
        output.add("ERROR", err[-65536:], always=True)
    code = process.returncode
    if killed:
        output.add(
            "ERROR", f"Run killed: over the time limit of {limits.timeout_s:g} s.", always=True
        )
    elif code == EXIT_MEMORY:
        output.add(
            "ERROR", f"Run killed: over the memory limit of {limits.memory_mb} MB.", always=True
        )
    elif code not in (0, EXIT_RAISED):
        output.add("ERROR", f"Run ended with exit code {code}.", always=True)
    ok = code == 0 and not killed
    outcome = "finished" if ok else f"failed (exit code {code})"
    took = time.monotonic() - started
    summary = f"Run {job['method']} {outcome} in {took:.2f} s."
    output.add("INFO" if ok else "ERROR", summary, always=True)
    await output.flush(force=True)


async def _stream(stream: asyncio.StreamReader | None, output: _Output) -> None:
    """Read the child's JSON lines until it closes stdout, flushing as they come."""
    buffer, skipping = b"", False  # skipping: the rest of a line longer than MAX_LINE
    while stream is not None:
        try:
            chunk = await asyncio.wait_for(stream.read(65536), FLUSH_S)
        except asyncio.TimeoutError:
            await output.flush()
            continue
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not skipping:
                _parse(line.decode(errors="replace"), output)
            skipping = False
        if len(buffer) > MAX_LINE:
            if not skipping:
                output.add("WARNING", f"A line of over {MAX_LINE:,} bytes was dropped.")
            buffer, skipping = b"", True
        await output.flush()
    if buffer and not skipping:
        _parse(buffer.decode(errors="replace"), output)


def _parse(line: str, output: _Output) -> None:
    try:
        item = json.loads(line)
        output.add(str(item["level"]), str(item["content"]))
    except (ValueError, KeyError, TypeError):
        if line.strip():
            output.add("INFO", line)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the run and whatever it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _read_all(stream: asyncio.StreamReader | None, cap: int) -> bytes:
    """Everything ``stream`` says, keeping the first ``cap`` bytes."""
    chunks, kept = [], 0
    while stream is not None and (chunk := await stream.read(65536)):
        if kept < cap:
            chunks.append(chunk[: cap - kept])
            kept += len(chunks[-1])
    return b"".join(chunks)
