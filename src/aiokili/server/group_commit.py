"""Group commit: the writes of requests arriving together done in one worker-thread call.

Each small upload used to cost the server a thread hop and a transaction of its own; under
a hundred concurrent uploads that meant tens of worker threads fighting for the GIL and the
database's one writer, and the server's CPU per upload doubled. Here the requests queue
their item; one of them (the leader) hands everything queued to ``apply`` in one thread
call, while the next arrivals queue behind it; when it is done it wakes the first of those
to lead the next batch. One thread at a time, one transaction per batch.

A caller cancelled while its item waits takes it back (nothing is written for it); once
its item is in a batch, the batch finishes (a leader is shielded: the others wait on it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

from .store.db import in_thread

T = TypeVar("T")
Apply = Callable[[Sequence[T]], Sequence[BaseException | None]]
"""Does the items' writes; returns, for each item in order, ``None`` or what failed it."""


@dataclass(eq=False)
class _Entry(Generic[T]):
    item: T
    done: bool = False
    error: BaseException | None = None
    wake: anyio.Event = field(default_factory=anyio.Event)


class GroupCommit(Generic[T]):
    """Queue items for ``apply`` (run in a worker thread, at most ``most`` items a call)."""

    def __init__(self, apply: Apply[T], most: int = 256) -> None:
        self._apply = apply
        self._most = most
        self._queue: list[_Entry[T]] = []
        self._leading = False

    async def __call__(self, item: T) -> None:
        """Write ``item`` with whatever else is queued; raise what failed it, if anything."""
        entry = _Entry(item)
        self._queue.append(entry)
        while not entry.done:
            if not self._leading:
                await self._lead()
                continue
            entry.wake = anyio.Event()
            try:
                await entry.wake.wait()
            except BaseException:
                if not entry.done and entry in self._queue:
                    self._queue.remove(entry)  # not written: it is the caller's to take back
                    self._hand_over()
                raise
        if entry.error is not None:
            raise entry.error

    async def _lead(self) -> None:
        self._leading = True
        batch, self._queue = self._queue[: self._most], self._queue[self._most :]
        try:
            with anyio.CancelScope(shield=True):  # the others wait on this batch
                try:
                    errors = list(await in_thread(self._apply, [e.item for e in batch]))
                except Exception as exc:  # every item of the batch failed with it
                    errors = [exc] * len(batch)
            if len(errors) != len(batch):
                errors = [RuntimeError(f"{len(errors)} outcomes for {len(batch)} writes")] * len(
                    batch
                )
            for entry, error in zip(batch, errors, strict=True):
                entry.done, entry.error = True, error
                entry.wake.set()
        finally:
            self._leading = False
            self._hand_over()

    def _hand_over(self) -> None:
        """Wake the first waiting caller to lead the next batch (when nobody leads)."""
        if self._queue and not self._leading:
            self._queue[0].wake.set()
