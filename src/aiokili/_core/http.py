"""One retry policy for the HTTP requests of the API: GraphQL requests and file uploads.

A failed attempt is classified by what the server may have done:

* **not processed** (always safe to resend): the connection was refused or never
  opened, the connect step timed out, HTTP 429, HTTP 503 with ``Retry-After``;
* **unknown** (resent only for idempotent requests: queries, PUTs, GETs): a timeout
  after sending, a dropped connection, an unreadable answer, HTTP 500/502/503/504;
* anything else is an answer, returned to the caller and never resent.

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

Errors name the public call (``projects()``) and, for the API, the endpoint and how to
change it (see :class:`~aiokili._core.settings.Endpoint`).

Logged under ``aiokili.http`` (never a header, so never the key): each retry and each
client-wide pause at INFO, answers slower than ``SLOW_REQUEST`` s at INFO, every answer's
status and time at DEBUG.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import random
import socket
from collections.abc import Awaitable, Callable, Iterator
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
from .settings import Endpoint
from .throttle import Throttle

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

log = logging.getLogger("aiokili.http")


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full-jitter exponential."""
    return random.uniform(0, min(C.RETRY_MAX_DELAY, C.RETRY_BASE_DELAY * 2**attempt))


async def wait_before_retry(seconds: float) -> None:
    """The one place the policy waits between attempts (a test's fake clock replaces it)."""
    await anyio.sleep(seconds)


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


def _origin(url: httpx.URL | None) -> str:
    """``scheme://host:port`` of a URL: never its path or query (a signed URL's secret)."""
    if url is None or not url.host:
        return "the server"
    return str(url.copy_with(path="/", query=None, fragment=None)).rstrip("/")


def _url_of(source: httpx.Response | httpx.RequestError) -> httpx.URL | None:
    """The URL a response or transport error belongs to, if httpx recorded it."""
    try:
        return source.request.url
    except RuntimeError:  # made by hand (a mock), not by a client
        return None


def _place(endpoint: Endpoint | None, url: httpx.URL | None) -> str:
    """Where a request went, as messages name it."""
    return str(endpoint) if endpoint is not None else _origin(url)


def path_hint(endpoint: Endpoint) -> str:
    """A sentence for an endpoint that answered but is not Kili's GraphQL API."""
    if httpx.URL(endpoint.url).path.rstrip("/").endswith(C.API_PATH):
        return (
            f" No Kili API answers at this address: check its host and port, or {endpoint.change}."
        )
    suggested = endpoint.with_path(C.API_PATH)
    if endpoint.origin == "environment":
        fix = f"{C.ENDPOINT_ENV}={suggested}"
    else:
        fix = f"api_endpoint={suggested!r}"
    return f" Kili's GraphQL API is at the path {C.API_PATH}: try {fix}."


def status_error(response: httpx.Response, what: str, endpoint: Endpoint | None = None) -> APIError:
    """The error for an HTTP error answer that carries no GraphQL result.

    ``what`` is who sent the request (``projects()``); ``endpoint``, for API requests, is
    named in the message with how to change it (else only the answering host is named).
    """
    status = response.status_code
    try:
        body = response.text[:500].strip()
    except Exception:  # an undecodable body: the status says enough
        body = ""
    place = _place(endpoint, _url_of(response))
    message = f"{what}: HTTP {status} from {place}" + (f": {body}" if body else "")
    if status in (401, 403):
        return AuthenticationError.from_message(
            f"{message.rstrip('.')}. Check KILI_API_KEY / api_key=: a key works only on the "
            "server that issued it.",
            "UNAUTHENTICATED",
            status_code=status,
        )
    if status in (404, 405) and endpoint is not None:
        message = message.rstrip(".") + "." + path_hint(endpoint)
    cls = RateLimitError if status == 429 else HTTPStatusError
    return cls(message, status_code=status, body=body, retry_after=retry_after(response))


def _reason(error: APIError, subject: str) -> str:
    """A failed attempt in a few words for the logs: no body (it may be long), no advice."""
    status = getattr(error, "status_code", None)
    if status:
        return f"HTTP {status}"
    text = str(error).removeprefix(f"{subject}: ")
    return text.split(". ")[0].splitlines()[0][:200] if text else type(error).__name__


@dataclass
class _Failure:
    error: APIError
    processed: bool  # the server may have acted on the request
    wait: float | None = None
    overloaded: bool = False  # 429, or 503 with Retry-After: the whole client backs off
    delays: tuple[float, ...] | None = None  # waits of the only resends allowed (not backoff)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception under it (causes, contexts, exception groups' members)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(getattr(current, "exceptions", ()))


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def connect_failure(
    exc: httpx.ConnectError, what: str, endpoint: Endpoint | None
) -> tuple[APIConnectionError, tuple[float, ...] | None]:
    """The error for a connection that could not be opened, and the waits of the resends
    it is allowed if not the usual backoff (see the module's docstring)."""
    url = _url_of(exc) or (httpx.URL(endpoint.url) if endpoint is not None else None)
    place = _place(endpoint, url)
    host = url.host if url is not None else ""
    change = f", or {endpoint.change}" if endpoint is not None else ""
    causes = list(_causes(exc))
    dns = next((e for e in causes if isinstance(e, socket.gaierror)), None)
    if dns is not None and dns.errno in _NO_SUCH_NAME:
        spelling = (
            "" if endpoint is not None and endpoint.origin == "default" else "its spelling and "
        )
        return APIConnectionError(
            f'{what}: cannot reach {place}: its host name "{host}" does not resolve. '
            f"Check {spelling}your network{change}."
        ), ()
    if dns is not None:
        return APIConnectionError(
            f'{what}: cannot reach {place}: its host name "{host}" could not be resolved '
            f"({dns.strerror or dns}). Check your network{change}."
        ), None
    refused = any(
        isinstance(e, ConnectionRefusedError)
        or (isinstance(e, OSError) and e.errno == errno.ECONNREFUSED)
        for e in causes
    )
    if refused and _is_loopback(host):
        start = " Start the server"
        if endpoint is not None:
            start += " (`aiokili server` runs a local one)"
        return APIConnectionError(
            f"{what}: connection refused by {place}: nothing is listening there.{start}{change}."
        ), C.LOOPBACK_RETRY_DELAYS
    reason = "connection refused" if refused else str(exc) or type(exc).__name__
    return APIConnectionError(
        f"{what}: could not connect to {place}: {reason.rstrip('.')}. Check that the server is "
        f"running and reachable{change}."
    ), None


def _transport_failure(
    exc: httpx.TransportError | httpx.DecodingError, what: str, endpoint: Endpoint | None
) -> _Failure:
    """An attempt that got no usable answer: the error, and whether the server may have
    acted on the request."""
    place = _place(endpoint, _url_of(exc))
    if isinstance(exc, httpx.PoolTimeout):  # every connection of the client is busy
        return _Failure(APITimeoutError(f"{what}: no free connection in time"), False)
    if isinstance(exc, httpx.ConnectTimeout):
        change = f", or {endpoint.change}" if endpoint is not None else ""
        message = (
            f"{what}: timed out connecting to {place}. Check that the server is running and "
            f"reachable{change}."
        )
        return _Failure(APITimeoutError(message), False)
    if isinstance(exc, httpx.ConnectError):
        error, delays = connect_failure(exc, what, endpoint)
        return _Failure(error, False, delays=delays)
    if isinstance(exc, httpx.TimeoutException):
        message = f"{what}: {place} timed out after the request was sent"
        return _Failure(APITimeoutError(message), True)
    if isinstance(exc, httpx.DecodingError):
        message = f"{what}: unreadable answer from {place}: {exc}"
        return _Failure(InvalidResponseError(message), True)
    message = f"{what}: the connection to {place} failed: {exc!r}"
    return _Failure(APIConnectionError(message), True)


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
        subject: str | None = None,
        endpoint: Endpoint | None = None,
        is_answer: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Run ``attempt`` until it gets an answer, resending only what is safe.

        ``what`` names the request in logs; ``subject`` (default ``what``) in errors, which
        also name ``endpoint`` (the API's, with how to change it) when given.
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
            outcome = await self._try(attempt, subject or what, endpoint, is_answer)
            elapsed = anyio.current_time() - started
            if isinstance(outcome, httpx.Response):
                if throttle is not None:
                    throttle.succeeded(epoch)
                level = logging.INFO if elapsed >= C.SLOW_REQUEST else logging.DEBUG
                log.log(level, "%s answered HTTP %d in %.2f s", what, outcome.status_code, elapsed)
                return outcome
            reason = _reason(outcome.error, subject or what)
            limit = self.max_retries
            if outcome.delays is not None:  # a failure that waiting long will not heal
                limit = min(limit, len(outcome.delays))
                wait = outcome.delays[min(retries, limit - 1)] if limit else 0.0
            elif outcome.wait is not None:
                wait = outcome.wait
            else:
                wait = backoff(retries + 1)
            if outcome.overloaded and throttle is not None:
                throttle.rate_limited(wait)
                log.info("%s: %s, every request of the client pauses %.1f s", what, reason, wait)
            if outcome.processed and not idempotent:
                outcome.error.outcome_unknown = True
                log.info("%s: %s after %.2f s; not resent (it may have been applied)",
                         what, reason, elapsed)  # fmt: skip
                raise outcome.error
            if retries >= limit:
                log.info("%s: %s; giving up after %d retries", what, reason, retries)
                raise outcome.error
            retries += 1
            log.info("%s: %s; retry %d of %d in %.1f s", what, reason, retries, limit, wait)
            await wait_before_retry(wait)

    async def _try(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        what: str,
        endpoint: Endpoint | None,
        is_answer: Callable[[httpx.Response], bool] | None,
    ) -> httpx.Response | _Failure:
        response: httpx.Response | None = None
        with anyio.move_on_after(self.timeout):
            try:
                response = await attempt()
            except (httpx.TransportError, httpx.DecodingError) as exc:
                return _transport_failure(exc, what, endpoint)
        if response is None:
            place = _place(endpoint, None)
            return _Failure(
                APITimeoutError(
                    f"{what}: {place} gave no complete answer within {self.timeout:g} s"
                ),
                True,
            )
        status = response.status_code
        if status not in RETRY_STATUSES or (is_answer is not None and is_answer(response)):
            return response
        wait = retry_after(response)
        overloaded = status == 429 or (status == 503 and wait is not None)
        error = status_error(response, what, endpoint)
        return _Failure(error, not overloaded, wait, overloaded)
