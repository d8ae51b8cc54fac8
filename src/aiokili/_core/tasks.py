"""Run coroutines concurrently, bounded, without letting errors escape as ExceptionGroups.

A task group wraps any error of its tasks in an ``ExceptionGroup``; callers of aiokili
must see the error itself. So each task stores its outcome, and the caller decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

R = TypeVar("R")


class NotRun(Exception):
    """Outcome of a job that was cancelled before it finished."""


Limit = int | Callable[[], int]
"""How many jobs may run at once: a number, or a function asked before each job starts
(the client's adaptive fan-out, ``_core.concurrency``)."""


async def gather(
    jobs: Sequence[Callable[[], Awaitable[R]]], *, limit: Limit, fail_fast: bool = False
) -> list[R | Exception]:
    """Run every job, at most ``limit`` at a time; return each result or exception, in order.

    A job's task is started only when it may run. With ``fail_fast``, the first error
    cancels the jobs still running or waiting (their outcome is :class:`NotRun`).
    Cancellation from outside still propagates.
    """
    outcomes: list[R | Exception] = [NotRun("cancelled after another job failed")] * len(jobs)
    bound = limit if callable(limit) else (lambda: limit)
    running = 0
    freed = anyio.Event()

    async with anyio.create_task_group() as tg:

        async def run(index: int, job: Callable[[], Awaitable[R]]) -> None:
            nonlocal running
            try:
                outcomes[index] = await job()
            except Exception as exc:
                outcomes[index] = exc
                if fail_fast:
                    tg.cancel_scope.cancel()
            finally:
                running -= 1
                freed.set()

        for index, job in enumerate(jobs):
            while running >= max(1, bound()):
                await freed.wait()
                freed = anyio.Event()
            running += 1
            tg.start_soon(run, index, job)
    return outcomes


async def gather_or_raise(jobs: Sequence[Callable[[], Awaitable[R]]], *, limit: Limit) -> list[R]:
    """Run every job (``limit`` at a time); the first error cancels the rest and is raised."""
    outcomes = await gather(jobs, limit=limit, fail_fast=True)
    errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, NotRun)]
    if errors:
        raise errors[0]
    return outcomes  # type: ignore[return-value]
