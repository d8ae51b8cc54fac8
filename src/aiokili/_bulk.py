"""Bulk engine: send a bulk call in chunks, concurrently, and report each failed item.

Each chunk is one request (retried by the policy where that is safe). A failed chunk does
not stop the others, except when the API is unreachable: then chunks not yet sent fail at
once with the same error instead of each waiting through its own retries. Failures are
reported per item, with the item's position in the caller's arrays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ._tasks import gather
from ._throttle import Throttle
from .errors import APIConnectionError, BulkOperationError, ItemFailure

T = TypeVar("T")
R = TypeVar("R")


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split ``items`` into consecutive chunks of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


async def run_bulk(
    operation: str,
    items: Sequence[T],
    send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
    *,
    keys: Sequence[str | None],
    indexes: Sequence[int],
    chunk_size: int,
    concurrency: int,
    throttle: Throttle | None = None,
) -> list[R]:
    """Send ``items`` in chunks through ``send``; return the results in order.

    ``keys[i]`` / ``indexes[i]`` are item ``i``'s identifier and position in the caller's
    arrays. If any chunk fails, raise :class:`~aiokili.errors.BulkOperationError` listing
    every item of the failed chunks and carrying the results of the others. With a
    ``throttle``, fewer chunks are in flight while the API is rate limiting the client.
    """
    throttle = throttle or Throttle()
    unreachable: list[APIConnectionError] = []

    def job(chunk: Sequence[T]) -> Callable[[], Awaitable[Sequence[R]]]:
        async def run() -> Sequence[R]:
            if unreachable:
                raise unreachable[0]  # the API is down: do not queue more retries
            try:
                async with throttle.slot(concurrency):
                    if unreachable:
                        raise unreachable[0]
                    return await send(chunk)
            except APIConnectionError as exc:
                unreachable.append(exc)
                raise

        return run

    chunks = chunked(items, chunk_size)
    outcomes = await gather([job(c) for c in chunks], limit=concurrency)
    succeeded: list[R] = []
    failures: list[ItemFailure] = []
    for number, outcome in enumerate(outcomes):
        if isinstance(outcome, Exception):
            start = number * chunk_size
            span = range(start, min(start + chunk_size, len(items)))
            failures.extend(ItemFailure(indexes[i], keys[i], outcome) for i in span)
        else:
            succeeded.extend(outcome)
    if failures:
        raise BulkOperationError(operation, failures, succeeded)
    return succeeded
