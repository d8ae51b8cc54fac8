"""One retry policy for the requests to the API: GraphQL calls and signed-URL uploads
(media downloads try twice on their own; websockets reconnect with :func:`backoff`).

A failed attempt is classified by what the server may have done:

* **not processed** (always safe to resend): the connection was refused or never
  opened, the connect step timed out, HTTP 429, HTTP 503 with ``Retry-After``;
* **unknown** (resent only for idempotent requests: queries, PUTs, GETs): a timeout
  after sending, a dropped connection, an unreadable answer, HTTP 500/502/503/504;
* anything else is an answer, returned to the caller and never resent.

Each attempt has a whole-request deadline (``timeout``, not per read, so a trickling
answer cannot hold a call forever). Waits are exponential with full jitter (0.5 s base,
8 s cap), or the server's ``Retry-After`` in seconds (capped at 60 s).

Logged under ``aiokili.http`` (never a header, so never the key): each retry and each
client-wide pause at INFO, answers slower than ``SLOW_REQUEST`` s at INFO, every answer's
status and time at DEBUG.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx

from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    HTTPStatusError,
    InvalidResponseError,
    RateLimitError,
)
from . import constants as C
from .throttle import Throttle

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

log = logging.getLogger("aiokili.http")


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full-jitter exponential."""
    return random.uniform(0, min(C.RETRY_MAX_DELAY, C.RETRY_BASE_DELAY * 2**attempt))


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (clamped to 0–60), or None if absent/unusable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: fall back to backoff
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), C.MAX_RETRY_AFTER)


def status_error(response: httpx.Response, what: str) -> APIError:
    """The error for an HTTP error answer that carries no GraphQL result."""
    status = response.status_code
    try:
        body = response.text[:500]
    except Exception:  # an undecodable body: the status says enough
        body = ""
    message = f"HTTP {status} from {what}" + (f": {body}" if body else "")
    if status in (401, 403):
        return AuthenticationError.from_message(
            f"{message}. Check KILI_API_KEY / api_key= and the endpoint.",
            "UNAUTHENTICATED",
            status_code=status,
        )
    cls = RateLimitError if status == 429 else HTTPStatusError
    return cls(message, status_code=status, body=body, retry_after=retry_after(response))


def _reason(error: APIError) -> str:
    """A failed attempt in a few words for the logs (no body: it may be long)."""
    status = getattr(error, "status_code", None)
    if status:
        return f"HTTP {status}"
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


@dataclass
class _Failure:
    error: APIError
    processed: bool  # the server may have acted on the request
    wait: float | None = None
    overloaded: bool = False  # 429, or 503 with Retry-After: the whole client backs off


@dataclass(frozen=True)
class RetryPolicy:
    """Deadline per attempt and how many times a failed attempt is resent."""

    max_retries: int
    timeout: float
    throttle: Throttle | None = None  # shared by the client's requests: see _throttle

    async def send(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        *,
        idempotent: bool,
        what: str,
        is_answer: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Run ``attempt`` until it gets an answer, resending only what is safe.

        ``is_answer(response)`` says whether a response with a retryable status is
        nevertheless final (e.g. it carries a GraphQL result). Raises an
        :class:`~aiokili.errors.APIError` once retries are exhausted or not allowed.
        """
        retries = 0
        throttle = self.throttle
        while True:
            if throttle is not None:
                await throttle.pause()
            epoch = throttle.epoch if throttle is not None else 0
            started = anyio.current_time()
            outcome = await self._try(attempt, what, is_answer)
            elapsed = anyio.current_time() - started
            if isinstance(outcome, httpx.Response):
                if throttle is not None:
                    throttle.succeeded(epoch)
                level = logging.INFO if elapsed >= C.SLOW_REQUEST else logging.DEBUG
                log.log(level, "%s answered HTTP %d in %.2f s", what, outcome.status_code, elapsed)
                return outcome
            reason = _reason(outcome.error)
            wait = outcome.wait if outcome.wait is not None else backoff(retries + 1)
            if outcome.overloaded and throttle is not None:
                throttle.rate_limited(wait)
                log.info("%s: %s, every request of the client pauses %.1f s", what, reason, wait)
            if outcome.processed and not idempotent:
                outcome.error.outcome_unknown = True
                log.info("%s: %s after %.2f s; not resent (it may have been applied)",
                         what, reason, elapsed)  # fmt: skip
                raise outcome.error
            if retries >= self.max_retries:
                log.info("%s: %s; giving up after %d retries", what, reason, retries)
                raise outcome.error
            retries += 1
            log.info("%s: %s; retry %d of %d in %.1f s", what, reason, retries,
                     self.max_retries, wait)  # fmt: skip
            await anyio.sleep(wait)

    async def _try(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        what: str,
        is_answer: Callable[[httpx.Response], bool] | None,
    ) -> httpx.Response | _Failure:
        response: httpx.Response | None = None
        with anyio.move_on_after(self.timeout):
            try:
                response = await attempt()
            except (httpx.ConnectTimeout, httpx.PoolTimeout):
                return _Failure(APITimeoutError(f"Timed out connecting to {what}"), False)
            except httpx.ConnectError as exc:
                return _Failure(
                    APIConnectionError(
                        f"Could not connect to {what}: {exc}. Is the endpoint right and the "
                        "server running?"
                    ),
                    False,
                )
            except httpx.TimeoutException:
                return _Failure(
                    APITimeoutError(f"{what} timed out after the request was sent"), True
                )
            except httpx.DecodingError as exc:
                return _Failure(InvalidResponseError(f"Unreadable answer from {what}: {exc}"), True)
            except httpx.TransportError as exc:
                return _Failure(APIConnectionError(f"Connection to {what} failed: {exc!r}"), True)
        if response is None:
            return _Failure(
                APITimeoutError(f"{what} gave no complete answer within {self.timeout:g} s"), True
            )
        status = response.status_code
        if status not in RETRY_STATUSES or (is_answer is not None and is_answer(response)):
            return response
        wait = retry_after(response)
        overloaded = status == 429 or (status == 503 and wait is not None)
        return _Failure(status_error(response, what), not overloaded, wait, overloaded)
