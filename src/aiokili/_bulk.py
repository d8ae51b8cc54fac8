"""Bulk engine: send a bulk call in chunks, concurrently, and report each failed item.

Each chunk is one request (retried by the policy where that is safe). A failed chunk does
not stop the others, except when the API is unreachable: then chunks not yet sent fail at
once with the same error instead of each waiting through its own retries. Failures are
reported per item, with the item's position in the caller's arrays.

When a chunk's outcome is unknown (the mutation was sent, then the connection dropped or
the answer timed out), nothing is resent blindly: ``reconcile`` asks the API which items
were applied, and only the others are sent again, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from ._tasks import gather
from ._throttle import Throttle
from .errors import APIConnectionError, APIError, BulkOperationError, ItemFailure

T = TypeVar("T")
R = TypeVar("R")


class _Partial(Exception, Generic[R]):
    """A chunk of which only some items are known to be applied."""

    def __init__(self, results: Sequence[R | None], error: Exception) -> None:
        super().__init__(str(error))
        self.results, self.error = results, error


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
    reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]] | None = None,
) -> list[R]:
    """Send ``items`` in chunks through ``send``; return the results in order.

    ``keys[i]`` / ``indexes[i]`` are item ``i``'s identifier and position in the caller's
    arrays. If any chunk fails, raise :class:`~aiokili.errors.BulkOperationError` listing
    every failed item and carrying the results of the others. With a ``throttle``, fewer
    chunks are in flight while the API is rate limiting the client. ``reconcile(chunk)``
    (optional) gives, per item of a chunk whose outcome is unknown, its result if the API
    applied it or None; ``send`` must then return one result per item, in order.
    """
    throttle = throttle or Throttle()
    unreachable: list[APIConnectionError] = []

    async def settle(chunk: Sequence[T], error: APIError) -> Sequence[R]:
        assert reconcile is not None
        found = list(await reconcile(chunk))
        missing = [i for i, result in enumerate(found) if result is None]
        if missing:
            try:
                again = await send([chunk[i] for i in missing])
            except Exception as exc:
                raise _Partial(found, exc) from exc
            for i, result in zip(missing, again, strict=True):
                found[i] = result
        return found  # type: ignore[return-value]  # no None left

    def job(chunk: Sequence[T]) -> Callable[[], Awaitable[Sequence[R]]]:
        async def run() -> Sequence[R]:
            if unreachable:
                raise unreachable[0]  # the API is down: do not queue more retries
            try:
                async with throttle.slot(concurrency):
                    if unreachable:
                        raise unreachable[0]
                    return await send(chunk)
            except APIError as exc:
                if reconcile is not None and exc.outcome_unknown:
                    return await settle(chunk, exc)
                if isinstance(exc, APIConnectionError):
                    unreachable.append(exc)
                raise

        return run

    chunks = chunked(items, chunk_size)
    outcomes = await gather([job(c) for c in chunks], limit=concurrency)
    succeeded: list[R] = []
    failures: list[ItemFailure] = []
    for number, outcome in enumerate(outcomes):
        start = number * chunk_size
        span = range(start, min(start + chunk_size, len(items)))
        if isinstance(outcome, _Partial):
            for i, result in zip(span, outcome.results, strict=True):
                if result is None:
                    failures.append(ItemFailure(indexes[i], keys[i], outcome.error))
                else:
                    succeeded.append(result)
        elif isinstance(outcome, Exception):
            failures.extend(ItemFailure(indexes[i], keys[i], outcome) for i in span)
        else:
            succeeded.extend(outcome)
    if failures:
        raise BulkOperationError(operation, failures, succeeded)
    return succeeded
