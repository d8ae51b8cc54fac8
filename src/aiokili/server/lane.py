"""The heavy lane: an event loop of its own, in a thread, for the costliest queries.

graphql-core builds a response in pure Python on the event loop: a page of 50,000 objects
held the server's loop for seconds, and with it ``/healthz`` and every small request. Queries
whose estimated cost reaches ``QueryLimits.heavy_cost`` run here instead (their resolvers,
the completion of their result and its JSON encoding), at most ``concurrency`` at a time,
the others waiting their turn; the server's loop keeps answering meanwhile: while heavy
work runs, the threads hand the GIL over every 0.5 ms (``sys.setswitchinterval``, 5 ms
otherwise), so a small request waits about that long for each step it takes.

Two things would still hold the GIL for long: one C call encoding a whole large result
(:func:`encode_json` encodes it piece by piece), and the cyclic garbage collector, whose full
collections walk every object of the process: with the millions a heavy result allocates,
each took 150-370 ms. While heavy work runs, there is no full collection (the young
generations are still collected; reference counting frees the result's objects once it
is answered, so the next full collection walks what lives on, as usual).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class HeavyLane:
    """A daemon thread running an asyncio loop, started on first use."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._turns: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="aiokili-heavy-lane", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``await work()`` on the lane's loop, once a turn is free. Cancelling the caller
        cancels the work."""
        caller = asyncio.get_running_loop()
        turns = self._turns.get(caller)
        if turns is None:
            turns = self._turns[caller] = asyncio.Semaphore(self.concurrency)
        async with turns:
            loop = self._started()
            done = asyncio.run_coroutine_threadsafe(_awaited(work), loop)
            return await asyncio.wrap_future(done)

    def close(self) -> None:
        """Stop the loop (work still running is cancelled) and wait for the thread."""
        with self._start_lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()


_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def encode_json(value: Any) -> bytes:
    """``value`` as compact JSON (as Starlette's ``JSONResponse`` encodes it), one list item
    or object member at a time: one C call on a whole large result would hold the GIL, and
    so the server's event loop, for as long as it runs."""
    parts: list[str] = []
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, _Text):
            parts.append(item)
        elif isinstance(item, list) and len(item) > 1:
            pending.append(_Text("]"))
            for i in range(len(item) - 1, -1, -1):
                pending.append(item[i])
                if i:
                    pending.append(_Text(","))
            pending.append(_Text("["))
        elif isinstance(item, dict) and len(item) > 1:
            pending.append(_Text("}"))
            members = list(item.items())
            for i in range(len(members) - 1, -1, -1):
                key, inner = members[i]
                pending.append(inner)
                pending.append(_Text(("," if i else "") + _ENCODE(str(key)) + ":"))
            pending.append(_Text("{"))
        else:
            parts.append(_ENCODE(item))
    return "".join(parts).encode("utf-8")


class _Text(str):
    """Already encoded JSON text."""


class _HeavyWork:
    """While heavy work runs: no full garbage collection (the oldest generation's threshold
    is raised; the young generations are still collected, a few thousand objects each), and
    a GIL handed over every 0.5 ms. Both are restored when the last heavy work ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._thresholds: tuple[int, ...] = ()
        self._interval = 0.0

    def __enter__(self) -> None:
        with self._lock:
            self._running += 1
            if self._running == 1:
                self._thresholds = gc.get_threshold()
                gc.set_threshold(*self._thresholds[:2], 1_000_000_000)
                self._interval = sys.getswitchinterval()
                sys.setswitchinterval(min(self._interval, 0.0005))

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0:
                gc.set_threshold(*self._thresholds)
                sys.setswitchinterval(self._interval)


_HEAVY = _HeavyWork()


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    with _HEAVY:
        return await work()
