"""Bulk engine: run chunks of a bulk call concurrently and report each failed item.

Each chunk is one request (retried by the transport where that is safe). A failed chunk
does not stop the others; the caller turns failed chunks into per-item failures and
raises :class:`~aiokili.errors.BulkOperationError` carrying what succeeded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

from .errors import BulkOperationError, ItemFailure

C = TypeVar("C")
R = TypeVar("R")
T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split ``items`` into consecutive chunks of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


async def run_chunks(
    chunks: Sequence[C],
    worker: Callable[[C], Awaitable[R]],
    *,
    concurrency: int,
) -> list[R | Exception]:
    """Run ``worker`` on every chunk, at most ``concurrency`` at a time.

    Returns one entry per chunk, in order: the worker's result, or the exception it
    raised (an ``Exception``; cancellation still propagates).
    """
    results: list[R | Exception] = [RuntimeError("not run")] * len(chunks)
    limiter = anyio.CapacityLimiter(max(1, concurrency))

    async def run_one(index: int, chunk: C) -> None:
        async with limiter:
            try:
                results[index] = await worker(chunk)
            except Exception as exc:
                results[index] = exc

    async with anyio.create_task_group() as tg:
        for index, chunk in enumerate(chunks):
            tg.start_soon(run_one, index, chunk)
    return results


def collect(
    operation: str,
    chunk_results: Sequence[Sequence[R] | Exception],
    chunk_keys: Sequence[Sequence[str | None]],
    chunk_size: int,
) -> list[R]:
    """Flatten chunk results in order, or raise BulkOperationError listing failed items.

    ``chunk_keys[i]`` holds the caller's identifiers of the items of chunk ``i``.
    """
    succeeded: list[R] = []
    failures: list[ItemFailure] = []
    for chunk_index, (result, keys) in enumerate(zip(chunk_results, chunk_keys, strict=True)):
        if isinstance(result, Exception):
            start = chunk_index * chunk_size
            failures.extend(ItemFailure(start + i, key, result) for i, key in enumerate(keys))
        else:
            succeeded.extend(result)
    if failures:
        raise BulkOperationError(operation, failures, succeeded)
    return succeeded
