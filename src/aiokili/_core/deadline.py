"""The wall-clock deadline of a bulk call (the client's ``deadline=`` option).

The clock starts when a public call first reaches the bulk engine and is shared by the
bulk runs of that call (an import of several kinds of assets has one deadline). It lives
in a context variable, so every request made for the call, in whatever task, sees it. Once
it has passed:

* no chunk starts and the retry policy starts no attempt: an item not sent yet fails with
  :class:`~aiokili.errors.DeadlineExceededError` (``sent`` False); a failed attempt that
  proves nothing was applied (429, 503 with ``Retry-After``) is not retried (``sent``
  True); a retry whose wait would end after the deadline is not waited for;
* requests in flight finish (each bounded by the client's ``timeout``) and their outcomes
  are kept;
* an unknown outcome is still looked up, for at most :func:`grace` more seconds
  (:meth:`Deadline.settling`); what a look-up finds missing is not sent again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import anyio

from ..errors import DeadlineExceededError, KiliInputError

GRACE = 10.0
"""At most this many seconds (or the request timeout, if shorter) of look-ups after the
deadline, to settle outcomes that are unknown."""

DEADLINE: ContextVar[Deadline | None] = ContextVar("aiokili.deadline", default=None)


def check_deadline(value: object) -> float | None:
    """``value`` as a deadline in seconds (None: no deadline, and so is infinity); a
    :class:`~aiokili.errors.KiliInputError` naming the fix when it cannot be one."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KiliInputError(
            f"deadline must be a number of seconds (or None for no deadline), got {value!r}."
        )
    if math.isnan(value) or value <= 0:
        raise KiliInputError(
            f"deadline must be > 0 seconds (or None for no deadline), got {value}: give the "
            "seconds a bulk call may take, e.g. deadline=30."
        )
    return None if math.isinf(value) else float(value)


def grace(timeout: float) -> float:
    """Seconds of look-ups allowed after the deadline: :data:`GRACE`, or ``timeout`` if shorter."""
    return min(GRACE, timeout)


@dataclass(frozen=True)
class Deadline:
    """When the current bulk call must stop starting requests."""

    seconds: float
    """The deadline as the user gave it, for messages."""
    at: float
    """When it passes, on :func:`anyio.current_time`'s clock."""
    grace: float
    """Seconds of look-ups allowed after ``at`` (see :meth:`settling`)."""

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return anyio.current_time() >= self.at

    def remaining(self) -> float:
        """Seconds left (0 when passed)."""
        return max(0.0, self.at - anyio.current_time())

    def not_sent(self, subject: str) -> DeadlineExceededError:
        """The error of an item not sent because the deadline passed."""
        return DeadlineExceededError(
            f"{subject}: not sent: the deadline of {self.seconds:g} s passed",
            deadline=self.seconds,
            sent=False,
        )

    def not_retried(
        self, subject: str, reason: str, wait: float | None = None
    ) -> DeadlineExceededError:
        """The error of an item refused (``reason``, nothing applied) and not sent again
        because the deadline passed, or would before the retry due in ``wait`` s."""
        when = "passed"
        if wait is not None and not self.passed():
            when = f"passes before the retry, due in {wait:.1f} s"
        return DeadlineExceededError(
            f"{subject}: {reason}, not retried: the deadline of {self.seconds:g} s {when}",
            deadline=self.seconds,
            sent=True,
        )

    @contextmanager
    def settling(self) -> Iterator[None]:
        """Run the block (look-ups of unknown outcomes) with the deadline moved
        :attr:`grace` seconds later."""
        token = DEADLINE.set(Deadline(self.seconds, self.at + self.grace, 0.0))
        try:
            yield
        finally:
            DEADLINE.reset(token)


def current() -> Deadline | None:
    """The deadline of the bulk call the current code runs for, if it has one."""
    return DEADLINE.get()


@contextmanager
def starting(seconds: float | None, timeout: float) -> Iterator[None]:
    """Run the block under a deadline ``seconds`` from now, unless the current call already
    has one (its bulk runs share it) or ``seconds`` is None."""
    if seconds is None or DEADLINE.get() is not None:
        yield
        return
    token = DEADLINE.set(Deadline(seconds, anyio.current_time() + seconds, grace(timeout)))
    try:
        yield
    finally:
        DEADLINE.reset(token)
