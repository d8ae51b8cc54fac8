"""Bulk engine: send a bulk call in chunks, concurrently, and report each failed item.

Each chunk is one request (retried by the policy where that is safe). A failed chunk does
not stop the others, except when the API is unreachable: then chunks not yet sent fail at
once with the same error instead of each waiting through its own retries. Failures are
reported per item, with the item's position in the caller's arrays.

How many chunks are in flight adapts (:class:`Window`): from 4, one more per round trip
while answers come back about as fast as the fastest so far (the API is not queueing our
requests) and the process sits mostly idle (more requests would not wait on our own CPU);
one fewer while the process is CPU-bound above 4, or for an answer over three times as slow.
``concurrency`` is the ceiling. On HTTP 429 the whole client backs off (``_throttle``).

When a chunk's outcome is unknown (the mutation was sent, then the connection dropped or
the answer timed out), nothing is resent blindly: ``reconcile`` asks the API which items
were applied, and only the others are sent again; if that outcome is unknown too, the
same again, up to :data:`SETTLE_ROUNDS` look-ups. Items still not applied then are
reported failed, each with the last error; items whose outcome stays unknown (the
look-up itself failed) with the :class:`~aiokili.errors.MutationOutcomeUnknownError`. A
bulk call whose requests are idempotent (setting properties by asset id, deleting,
moving in the workflow) is simply sent again, once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from functools import partial
from typing import Generic, TypeVar

import anyio

from ..errors import APIConnectionError, APIError, BulkOperationError, ItemFailure
from . import constants as C
from .calls import current
from .tasks import gather
from .throttle import Throttle

T = TypeVar("T")
R = TypeVar("R")

SETTLE_ROUNDS = 5
"""Look-ups (each followed by a resend of what is missing) to settle one unknown outcome."""


class _Partial(Exception, Generic[R]):
    """A chunk of which only some items are known to be applied."""

    def __init__(self, results: Sequence[R | None], error: Exception) -> None:
        super().__init__(str(error))
        self.results, self.error = results, error


class Window:
    """Chunks one bulk call may have in flight (between 1 and ``ceiling``).

    Over the last ``size`` answers (about one round trip), the process's CPU share says
    whether the client itself is the bottleneck: mostly idle and answers as fast as the
    fastest, one more chunk may go; busy (over 90%) above the initial window, one fewer,
    since more requests in flight would only cost the client connections.
    """

    IDLE_SHARE = 0.5
    BUSY_SHARE = 0.9

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.size = min(C.INITIAL_BULK_WINDOW, self.ceiling)
        self.fastest = math.inf
        self._marks: deque[tuple[float, float]] = deque(maxlen=self.ceiling + 1)

    def current(self) -> int:
        return self.size

    def answered(self, seconds: float) -> None:
        """A chunk was answered in ``seconds``: widen or narrow the window."""
        self._marks.append((anyio.current_time(), time.process_time()))
        self.fastest = min(self.fastest, seconds)
        if len(self._marks) <= self.size:
            return  # not a round trip's worth of answers yet
        (wall0, cpu0), (wall1, cpu1) = self._marks[-self.size - 1], self._marks[-1]
        busy = (cpu1 - cpu0) / (wall1 - wall0) if wall1 > wall0 else 1.0
        if seconds > 3 * self.fastest:
            self.size = max(1, self.size - 1)
        elif busy > self.BUSY_SHARE and self.size > C.INITIAL_BULK_WINDOW:
            self.size -= 1
        elif seconds <= 1.5 * self.fastest and busy < self.IDLE_SHARE:
            self.size = min(self.ceiling, self.size + 1)
        else:
            return
        self._marks.clear()  # judge the new window on its own answers


def created_since(created: datetime | None, since: datetime) -> bool:
    """Whether a record dated ``created`` (naive: UTC) was made at or after ``since``:
    the reconcile checks' test of "written by this call"."""
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created >= since


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
    idempotent: bool = False,
) -> list[R]:
    """Send ``items`` in chunks through ``send``; return the results in order.

    ``keys[i]`` / ``indexes[i]`` are item ``i``'s identifier and position in the caller's
    arrays. If any chunk fails, raise :class:`~aiokili.errors.BulkOperationError` listing
    every failed item and carrying the results of the others. With a ``throttle``, fewer
    chunks are in flight while the API is rate limiting the client. ``reconcile(chunk)``
    (optional) gives, per item of a chunk whose outcome is unknown, its result if the API
    applied it or None; ``send`` must then return one result per item, in order. With
    ``idempotent``, such a chunk is sent again as it is, once.
    """
    bulk = _Bulk(send, Window(concurrency), throttle or Throttle(), reconcile, idempotent)
    jobs = [partial(bulk.run, chunk) for chunk in chunked(items, chunk_size)]
    outcomes = await gather(jobs, limit=concurrency)
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
    if failures:  # named after the call the user made (create_predictions -> append_labels)
        raise BulkOperationError(current() or operation, failures, succeeded)
    return succeeded


class _Bulk(Generic[T, R]):
    """The chunks of one bulk call: each sent through the throttle and the window, then,
    for an unknown outcome, sent again (``idempotent``) or reconciled."""

    def __init__(
        self,
        send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        window: Window,
        throttle: Throttle,
        reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]] | None,
        idempotent: bool,
    ) -> None:
        self._send, self._window, self._throttle = send, window, throttle
        self._reconcile, self._idempotent = reconcile, idempotent
        self._unreachable: list[APIConnectionError] = []

    async def run(self, chunk: Sequence[T]) -> Sequence[R]:
        """Send one chunk; its results, one per item."""
        if self._unreachable:
            raise self._unreachable[0]  # the API is down: do not queue more retries
        try:
            async with self._throttle.slot(self._window.current):
                if self._unreachable:
                    raise self._unreachable[0]
                started = anyio.current_time()
                results = await self._send(chunk)
                self._window.answered(anyio.current_time() - started)
                return results
        except APIError as exc:
            if exc.outcome_unknown and self._idempotent:
                return await self._send(chunk)
            if exc.outcome_unknown and self._reconcile is not None:
                return await self._settle(chunk, self._reconcile, exc)
            if isinstance(exc, APIConnectionError):
                self._unreachable.append(exc)
            raise

    async def _settle(
        self,
        chunk: Sequence[T],
        reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]],
        error: Exception,
    ) -> Sequence[R]:
        """After an unknown outcome (``error``): the results of the items the API applied,
        and of the others sent again while their outcome stays unknown, up to
        :data:`SETTLE_ROUNDS` look-ups (:class:`_Partial` with what is still missing after
        that, or when a look-up fails)."""
        found: list[R | None] = [None] * len(chunk)
        for round_ in range(SETTLE_ROUNDS):
            missing = [i for i, result in enumerate(found) if result is None]
            try:
                looked_up = await reconcile([chunk[i] for i in missing])
            except Exception as exc:  # outcome of the missing items still unknown
                raise _Partial(found, error) from exc
            for i, result in zip(missing, looked_up, strict=True):
                found[i] = result
            missing = [i for i, result in enumerate(found) if result is None]
            if not missing:
                return found  # type: ignore[return-value]  # no None left
            if round_ == SETTLE_ROUNDS - 1 or not getattr(error, "outcome_unknown", False):
                break  # out of rounds, or the last resend was refused: not applied
            try:
                again = await self._send([chunk[i] for i in missing])
            except Exception as exc:
                error = exc
                continue
            for i, result in zip(missing, again, strict=True):
                found[i] = result
            return found  # type: ignore[return-value]  # no None left
        raise _Partial(found, error)
