"""Work a request leaves running (asynchronous imports): started in the app's lifespan task
group, so it ends with the server (cancelled at shutdown) and is never a detached task; a
failure is logged under ``aiokili.server`` with its traceback, never printed.

The lifespan attaches one :class:`Background` to its store; a resolver reaches it with
:func:`background_of`. Without a running lifespan (an app served without one), there is
none and the resolver does the work before answering.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from anyio.abc import TaskGroup

from .errors import logger

_running: weakref.WeakKeyDictionary[Any, Background] = weakref.WeakKeyDictionary()


class Background:
    """The lifespan's task group, for work started by requests."""

    def __init__(self, tasks: TaskGroup) -> None:
        self._tasks = tasks

    def start(self, what: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work()`` in the background; an exception it raises is logged (``what``
        names the work in the log line) and goes no further."""

        async def run() -> None:
            try:
                await work()
            except Exception:
                logger.exception("%s failed", what)

        self._tasks.start_soon(run, name=what)


def attach(store: Any, tasks: TaskGroup) -> None:
    """Make ``tasks`` (the lifespan's task group) the background of ``store``."""
    _running[store.db] = Background(tasks)


def detach(store: Any) -> None:
    _running.pop(store.db, None)


def background_of(store: Any) -> Background | None:
    """The running background of ``store``; None when no lifespan runs."""
    return _running.get(store.db)
