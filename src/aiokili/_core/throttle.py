"""Client-wide back-off when the API says it is overloaded (HTTP 429, 503 + Retry-After).

One :class:`Throttle` is shared by every request of a client and of its ``with_options``
copies. When any request is rate limited:

* every request of the client waits until the pause is over (``Retry-After``, else the
  retry policy's backoff) before its next attempt, instead of each hitting the limit on
  its own;
* the bulk window (bulk requests in flight, at most ``concurrency``) halves.

Each successful answer then widens the window by ``1 / window`` requests (one request
per window's worth of successes, as TCP congestion control does), until it is back to
the configured ``concurrency``. Answers to requests sent before the last rate limit do
not count.

Logged under ``aiokili.http`` at DEBUG: each request held by a pause, each new window.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

log = logging.getLogger("aiokili.http")


class Throttle:
    """The pause and the bulk window shared by one client's requests."""

    def __init__(self) -> None:
        self._resume_at = 0.0
        self._window = math.inf  # bulk requests allowed in flight; inf: the caller's limit
        self._in_flight = 0
        self._changed: anyio.Event | None = None
        self.epoch = 0  # bumped by each rate limit; older answers do not widen the window

    @property
    def window(self) -> float:
        """Bulk requests currently allowed in flight (``inf``: no back-off in effect)."""
        return self._window

    async def pause(self) -> None:
        """Wait until no pause is in effect."""
        logged = False
        while True:  # the pause may be extended while we sleep
            delay = self._resume_at - anyio.current_time()
            if delay <= 0:
                return
            if not logged:
                log.debug("a request waits %.1f s: the API asked the client to slow down", delay)
                logged = True
            await anyio.sleep(delay)

    def rate_limited(self, wait: float) -> None:
        """A request was refused for load: pause everyone ``wait`` s, halve the window."""
        self.epoch += 1
        self._resume_at = max(self._resume_at, anyio.current_time() + wait)
        self._window = max(1.0, min(self._window, self._in_flight or 1) / 2)
        log.debug("bulk window now %.1f request(s) in flight", self._window)

    def succeeded(self, epoch: int) -> None:
        """An answer to a request sent at ``epoch`` came back: widen the window a little."""
        if epoch == self.epoch and not math.isinf(self._window):
            self._window += 1 / self._window
            self._notify()

    @asynccontextmanager
    async def slot(self, limit: Callable[[], int]) -> AsyncIterator[None]:
        """Hold one of the ``min(limit(), window)`` bulk slots while sending."""
        while self._in_flight >= self._allowed(limit()):
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()
        if self._window >= limit():
            self._window = math.inf  # recovered: the caller's concurrency applies again
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._notify()

    def _allowed(self, limit: int) -> int:
        if math.isinf(self._window):
            return max(1, limit)
        return max(1, min(limit, math.floor(self._window)))

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None
