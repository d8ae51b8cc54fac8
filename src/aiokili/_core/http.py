"""One retry policy for the requests to the API: GraphQL calls and signed-URL uploads
(media downloads too, see ``_core.downloads``; websockets reconnect with :func:`backoff`).

A failed attempt is classified by what the server may have done:

* **not processed** (always safe to resend, mutations included): the connection was
  refused or never opened, the connect step timed out, HTTP 429, HTTP 503 with
  ``Retry-After`` (the server says "not now": it refused the request before running it);
* **unknown** (resent only for idempotent requests: queries, PUTs, GETs): a timeout
  after sending, a dropped connection, an unreadable answer or one cut short (a JSON
  object that does not end), HTTP 500/502/504, a 503 without ``Retry-After``: the
  server may have run the request. A mutation is then not resent: the error's
  ``outcome_unknown`` is set (bulk calls reconcile, see ``_core.bulk``; a single
  mutation raises :class:`~aiokili.errors.MutationOutcomeUnknownError`);
* anything else is an answer, returned to the caller and never resent.

Every error says how many times the request was sent (``attempts``) and the server's
``X-Request-Id`` of the last answer (``request_id``), if one came.

Each attempt has a whole-request deadline (``timeout``, not per read, so a trickling
answer cannot hold a call forever). Waits are exponential with full jitter (0.5 s base,
8 s cap), or the server's ``Retry-After`` in seconds (capped at 60 s), up to
``max_retries`` resends; two failures are known not to heal with time, and are not given
that much:

* a connection **refused by a loopback address** (``localhost``, ``127.0.0.1``, ``::1``)
  means nothing listens on this machine: resent at most 3 times, 0.1, 0.2 and 0.4 s
  apart, so a local server that is starting gets 0.7 s and one that is not running is
  reported within a second (refusals by other hosts, e.g. behind a restarting load
  balancer, keep the normal waits);
* a **host name that does not exist** (DNS "no such name") is reported at once; a
  temporary DNS failure is resent as usual.

Within a bulk call's ``deadline`` (``_core.deadline``), no attempt starts once it has
passed (a slot waited for past it included), and no retry whose wait would end after it:
:class:`~aiokili.errors.DeadlineExceededError`.

What each failure says (the call, the endpoint and the fix) is in ``_core.failures``.

Logged under ``aiokili.http`` (never a header, so never the key): each retry and each
client-wide pause at INFO, answers slower than ``SLOW_REQUEST`` s at INFO, every answer's
status and time at DEBUG.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import anyio
import httpx

from ..errors import APIError, APITimeoutError, DeadlineExceededError, InvalidResponseError
from . import constants as C
from .concurrency import Concurrency, Ticket
from .deadline import Deadline
from .deadline import current as current_deadline
from .failures import Failure, retry_after, status_error, transport_failure
from .settings import Endpoint

__all__ = ["RetryPolicy", "backoff", "retry_after", "status_error", "wait_before_retry"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ATTEMPTS_KEY = "aiokili.attempts"  # in a response's extensions: times the request was sent

log = logging.getLogger("aiokili.http")


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full-jitter exponential."""
    return random.uniform(0, min(C.RETRY_MAX_DELAY, C.RETRY_BASE_DELAY * 2**attempt))


async def wait_before_retry(seconds: float) -> None:
    """The one place the policy waits between attempts (a test's fake clock replaces it)."""
    await anyio.sleep(seconds)


def request_id(response: httpx.Response) -> str | None:
    """The server's ``X-Request-Id`` of an answer, if it sent one."""
    found: str | None = response.headers.get("x-request-id")
    return found


def cut_short(response: httpx.Response) -> bool:
    """A 2xx body that starts a JSON object and does not end it: an answer cut short
    (by a proxy, a crashing server...), unlike a page that is not JSON at all."""
    content = response.content
    return content[:64].lstrip().startswith(b"{") and not content[-64:].rstrip().endswith(b"}")


def _reason(error: APIError, subject: str) -> str:
    """A failed attempt in a few words for the logs: no body (it may be long), no advice."""
    status = getattr(error, "status_code", None)
    if status:
        return f"HTTP {status}"
    text = str(error).removeprefix(f"{subject}: ")
    return text.split(". ")[0].splitlines()[0][:200] if text else type(error).__name__


@dataclass(frozen=True)
class RetryPolicy:
    """Deadline per attempt and how many times a failed attempt is resent."""

    max_retries: int
    timeout: float
    gate: Concurrency | None = None  # shared by the client's requests: see _core.concurrency
    cap: int = C.DEFAULT_CONCURRENCY  # at most this many of them in flight for this client

    async def send(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        *,
        idempotent: bool,
        what: str,
        subject: str | None = None,
        endpoint: Endpoint | None = None,
        is_answer: Callable[[httpx.Response], bool] | None = None,
        kind: str | None = None,
        check_body: bool = False,
    ) -> httpx.Response:
        """Run ``attempt`` until it gets an answer, resending only what is safe.

        ``what`` names the request in logs; ``subject`` (default ``what``) in errors, which
        also name ``endpoint`` (the API's, with how to change it) when given.
        ``is_answer(response)`` says whether a response with a retryable status is
        nevertheless final (e.g. it carries a GraphQL result); with ``check_body``, a 2xx
        answer :func:`cut_short` is a failed attempt. ``kind`` (default ``what``) groups
        requests whose round trips compare (see ``_core.concurrency``). Raises an
        :class:`~aiokili.errors.APIError` once retries are exhausted or not allowed, with
        ``attempts`` and ``request_id`` set; a response carries its attempts in
        ``extensions[ATTEMPTS_KEY]``.
        """
        retries, reason, last = 0, "", None  # the last failure, once there was one
        deadline = current_deadline()
        while True:
            try:
                outcome, elapsed, ticket = await self._gated(
                    attempt,
                    subject or what,
                    endpoint,
                    is_answer,
                    kind or what,
                    check_body,
                    deadline,
                )
            except DeadlineExceededError:
                if deadline is None or not retries:
                    raise
                raise deadline.not_retried(subject or what, reason) from last
            if isinstance(outcome, httpx.Response):
                outcome.extensions[ATTEMPTS_KEY] = retries + 1
                level = logging.INFO if elapsed >= C.SLOW_REQUEST else logging.DEBUG
                log.log(level, "%s answered HTTP %d in %.2f s", what, outcome.status_code, elapsed)
                return outcome
            outcome.error.attempts = retries + 1
            reason, last = _reason(outcome.error, subject or what), outcome.error
            limit = self.max_retries
            if outcome.delays is not None:  # a failure that waiting long will not heal
                limit = min(limit, len(outcome.delays))
                wait = outcome.delays[min(retries, limit - 1)] if limit else 0.0
            elif outcome.wait is not None:
                wait = outcome.wait
            else:
                wait = backoff(retries + 1)
            if ticket is not None:
                _tell(ticket, outcome, wait)
            if outcome.overloaded and ticket is not None:
                log.info("%s: %s, every request of the client pauses %.1f s", what, reason, wait)
            if outcome.processed and not idempotent:
                outcome.error.outcome_unknown = True
                log.info(
                    "%s: %s after %.2f s; not resent (it may have been applied)",
                    what,
                    reason,
                    elapsed,
                )
                raise outcome.error
            if retries >= limit:
                log.info("%s: %s; giving up after %d retries", what, reason, retries)
                raise outcome.error
            if deadline is not None and deadline.remaining() <= wait:
                log.info("%s: %s; not retried: the call's deadline passes first", what, reason)
                raise deadline.not_retried(subject or what, reason, wait) from outcome.error
            retries += 1
            log.info("%s: %s; retry %d of %d in %.1f s", what, reason, retries, limit, wait)
            await wait_before_retry(wait)

    async def _gated(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        subject: str,
        endpoint: Endpoint | None,
        is_answer: Callable[[httpx.Response], bool] | None,
        kind: str,
        check_body: bool,
        deadline: Deadline | None,
    ) -> tuple[httpx.Response | Failure, float, Ticket | None]:
        """One attempt in one of the client's request slots (none without a gate); the
        outcome, its seconds, and its ticket (a failure is told to the gate by the caller,
        once its wait is known). Not started once ``deadline`` has passed, not even after
        waiting for a slot (:class:`~aiokili.errors.DeadlineExceededError`)."""
        if self.gate is None:
            if deadline is not None and deadline.passed():
                raise deadline.not_sent(subject)
            started = anyio.current_time()
            outcome = await self._try(attempt, subject, endpoint, is_answer, check_body)
            return outcome, anyio.current_time() - started, None
        async with AsyncExitStack() as stack:
            with anyio.move_on_after(math.inf if deadline is None else deadline.remaining()):
                ticket = await stack.enter_async_context(self.gate.slot(kind, self.cap))
            if deadline is not None and deadline.passed():
                raise deadline.not_sent(subject)
            outcome = await self._try(attempt, subject, endpoint, is_answer, check_body)
            if isinstance(outcome, httpx.Response):
                ticket.answered()
            return outcome, anyio.current_time() - ticket.started, ticket

    async def _try(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        subject: str,
        endpoint: Endpoint | None,
        is_answer: Callable[[httpx.Response], bool] | None,
        check_body: bool,
    ) -> httpx.Response | Failure:
        response: httpx.Response | None = None
        with anyio.move_on_after(self.timeout):
            try:
                response = await attempt()
            except (httpx.TransportError, httpx.DecodingError) as exc:
                return transport_failure(exc, subject, endpoint)
        if response is None:
            place = str(endpoint) if endpoint is not None else "the server"
            return Failure(
                APITimeoutError(
                    f"{subject}: {place} gave no complete answer within {self.timeout:g} s"
                ),
                True,
            )
        status = response.status_code
        if check_body and response.is_success and cut_short(response):
            place = str(endpoint) if endpoint is not None else "the server"
            cut = InvalidResponseError(
                f"{subject}: {place} answered HTTP {status} with a body cut short "
                f"({len(response.content)} bytes of JSON that do not end)",
                status_code=status,
            )
            cut.request_id = request_id(response)
            return Failure(cut, True)
        if status not in RETRY_STATUSES or (is_answer is not None and is_answer(response)):
            return response
        wait = retry_after(response)
        overloaded = status == 429 or (status == 503 and wait is not None)
        error = status_error(response, subject, endpoint)
        error.request_id = request_id(response)
        return Failure(error, not overloaded, wait, overloaded)


def _tell(ticket: Ticket, outcome: Failure, wait: float) -> None:
    """What a failed attempt says about the load: a rate limit (everyone pauses ``wait``
    s), an overload or a timeout (fewer requests in flight), or nothing."""
    if outcome.overloaded:  # "Retry-After: 0": try again now, nothing to slow down for
        ticket.rate_limited(wait, pace=outcome.wait != 0)
    elif isinstance(outcome.error, APITimeoutError) or getattr(
        outcome.error, "status_code", None
    ) in (503, 504):
        ticket.dropped()
