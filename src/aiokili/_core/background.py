"""The client's background work (listing prefetches, subscription callbacks) in a task group
that lives in a task of its own.

anyio (like trio) requires a task group to be left in the task that entered it. A client
entered in one task and left in another (pytest-asyncio runs an async fixture's setup and
teardown in two tasks; so may an application's start-up and shut-down hooks) would fail at
exit with "Attempted to exit cancel scope in a different task than it was entered in". So
the task group is entered and left by one dedicated host task; the client only starts and
stops it, from whichever tasks it likes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from anyio.abc import TaskGroup


class Background:
    """A task group hosted by a task of its own: ``await start()``, then ``task_group``
    until ``await stop()`` (which cancels what still runs and waits for it to end)."""

    def __init__(self) -> None:
        self.task_group: TaskGroup | None = None
        self._stopping = anyio.Event()
        self._stopped = anyio.Event()
        self._error: BaseException | None = None
        self._host_task: object = None  # asyncio keeps only a weak reference to its tasks

    async def start(self) -> TaskGroup:
        """Start the host task; return its task group once it is open."""
        ready = anyio.Event()

        async def host() -> None:
            try:
                async with anyio.create_task_group() as task_group:
                    self.task_group = task_group
                    ready.set()
                    await self._stopping.wait()
                    task_group.cancel_scope.cancel()
            except anyio.get_cancelled_exc_class():
                raise  # the event loop itself is closing
            except BaseException as exc:  # handed to stop(): nobody else awaits this task
                self._error = exc
            finally:
                self.task_group = None
                ready.set()
                self._stopped.set()

        self._host_task = _spawn(host)
        await ready.wait()
        if self.task_group is None:  # pragma: no cover - the host failed to open it
            raise RuntimeError("the background task group did not start") from self._error
        return self.task_group

    async def stop(self) -> None:
        """Cancel the background work and wait until the host task has left its task group.

        Raises what the task group raised, if anything (its tasks keep their errors)."""
        self._stopping.set()
        with anyio.CancelScope(shield=True):  # the host ends promptly: always wait for it
            await self._stopped.wait()
        self._host_task = None
        if self._error is not None:
            raise self._error


def _spawn(host: Callable[[], Coroutine[Any, Any, None]]) -> object:
    """Run ``host()`` as a new top-level task of the running event loop (asyncio or trio).

    asyncio is not imported here unless it already is (an asyncio loop runs only then):
    importing it costs ~10 ms, which a trio program need not pay."""
    if "asyncio" in sys.modules:
        import asyncio

        try:
            return asyncio.get_running_loop().create_task(host())
        except RuntimeError:  # no asyncio loop running in this thread
            pass
    import trio  # anyio's other backend

    trio.lowlevel.spawn_system_task(host)
    return None
