"""Bulk engine: send a bulk call in chunks, concurrently, and report each failed item.

Each chunk is one request (retried by the policy where that is safe). A failed chunk does
not stop the others, except when the API is unreachable: then chunks not yet sent fail at
once with the same error instead of each waiting through its own retries. Failures are
reported per item, with the item's position in the caller's arrays.

How many chunks are in flight adapts: each request holds one of the client's request
slots, whose number the answers decide (``_core.concurrency``: more while added requests
do not queue, fewer on rising latency, 429/503 and timeouts), and the chunks kept going at
once are one more than that, at most ``concurrency``. The uploads of a chunk go before
those of chunks started after it (``concurrency.in_order``): chunks finish one after the
other, each sent while the next ones upload.

With a ``deadline`` (the client's option, ``_core.deadline``), no chunk starts once it has
passed: the chunks not sent fail with :class:`~aiokili.errors.DeadlineExceededError`, the
ones in flight finish and are kept.

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

from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from functools import partial
from typing import Generic, TypeVar

from ..errors import APIConnectionError, APIError, BulkOperationError, ItemFailure
from .calls import current
from .concurrency import Concurrency, in_order, unit_of_work
from .deadline import current as current_deadline
from .tasks import gather

T = TypeVar("T")
R = TypeVar("R")

SETTLE_ROUNDS = 5
"""Look-ups (each followed by a resend of what is missing) to settle one unknown outcome
(after the deadline: look-ups only, see ``_core.deadline``)."""


class _Partial(Exception, Generic[R]):
    """A chunk of which only some items are known to be applied."""

    def __init__(self, results: Sequence[R | None], error: Exception) -> None:
        super().__init__(str(error))
        self.results, self.error = results, error


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
    gate: Concurrency | None = None,
    reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]] | None = None,
    idempotent: bool = False,
) -> list[R]:
    """Send ``items`` in chunks through ``send``; return the results in order.

    ``keys[i]`` / ``indexes[i]`` are item ``i``'s identifier and position in the caller's
    arrays. If any chunk fails, raise :class:`~aiokili.errors.BulkOperationError` listing
    every failed item and carrying the results of the others. With the client's ``gate``,
    the chunks in flight follow its adaptive concurrency (at most ``concurrency``);
    without, ``concurrency`` chunks go at once. ``reconcile(chunk)``
    (optional) gives, per item of a chunk whose outcome is unknown, its result if the API
    applied it or None; ``send`` must then return one result per item, in order. With
    ``idempotent``, such a chunk is sent again as it is, once.
    """
    bulk = _Bulk(_who(operation), send, reconcile, idempotent)
    jobs = [partial(bulk.run, chunk) for chunk in chunked(items, chunk_size)]
    outcomes = await gather(jobs, limit=unit_of_work(gate, concurrency))
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
    """The chunks of one bulk call: each sent, then, for an unknown outcome, sent again
    (``idempotent``) or reconciled."""

    def __init__(
        self,
        who: str,
        send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]] | None,
        idempotent: bool,
    ) -> None:
        self._who, self._send = who, send
        self._reconcile, self._idempotent = reconcile, idempotent
        self._unreachable: list[APIConnectionError] = []

    async def run(self, chunk: Sequence[T]) -> Sequence[R]:
        """Send one chunk; its results, one per item."""
        if self._unreachable:
            raise self._unreachable[0]  # the API is down: do not queue more retries
        deadline = current_deadline()
        if deadline is not None and deadline.passed():
            raise deadline.not_sent(self._who)
        with in_order():
            return await self._run(chunk)

    async def _run(self, chunk: Sequence[T]) -> Sequence[R]:
        deadline = current_deadline()
        try:
            return await self._send(chunk)
        except APIError as exc:
            if exc.outcome_unknown and self._idempotent:
                if deadline is not None and deadline.passed():
                    raise  # sending it again would start a request after the deadline
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
        deadline = current_deadline()
        for round_ in range(SETTLE_ROUNDS):
            missing = [i for i, result in enumerate(found) if result is None]
            try:
                with nullcontext() if deadline is None else deadline.settling():
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
            if deadline is not None and deadline.passed():  # not applied, and not resent
                late = deadline.not_retried(self._who, _why(error))
                late.__cause__ = error
                raise _Partial(found, late)
            try:
                again = await self._send([chunk[i] for i in missing])
            except Exception as exc:
                error = exc
                continue
            for i, result in zip(missing, again, strict=True):
                found[i] = result
            return found  # type: ignore[return-value]  # no None left
        raise _Partial(found, error)


def _who(operation: str) -> str:
    """The call a bulk run is for, as errors name it (``append_labels()``)."""
    return f"{current() or operation}()"


def _why(error: Exception) -> str:
    """An unknown outcome in a few words, for the item a look-up then found not applied."""
    status = getattr(error, "status_code", None)
    cause = f"HTTP {status}" if status else type(error).__name__
    return f"its outcome unknown after {cause}, a look-up found it not applied"
