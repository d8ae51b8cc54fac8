"""What a failed request says: its error, with the call that made it, where it went and the
fix, and how the retry policy (``_core.http``) may resend it."""

from __future__ import annotations

import errno
import ipaddress
import math
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

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


def retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (clamped to 0–60), or None if absent/unusable.
    Either form of RFC 9110: seconds, or an HTTP date (a date past is 0)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if at.tzinfo is None:  # "-0000": UTC, says RFC 5322
            at = at.replace(tzinfo=timezone.utc)
        seconds = (at - datetime.now(timezone.utc)).total_seconds()
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


@dataclass
class Failure:
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


def transport_failure(
    exc: httpx.TransportError | httpx.DecodingError, what: str, endpoint: Endpoint | None
) -> Failure:
    """An attempt that got no usable answer: the error, and whether the server may have
    acted on the request."""
    place = _place(endpoint, _url_of(exc))
    if isinstance(exc, httpx.PoolTimeout):  # every connection of the client is busy
        return Failure(APITimeoutError(f"{what}: no free connection in time"), False)
    if isinstance(exc, httpx.ConnectTimeout):
        change = f", or {endpoint.change}" if endpoint is not None else ""
        message = (
            f"{what}: timed out connecting to {place}. Check that the server is running and "
            f"reachable{change}."
        )
        return Failure(APITimeoutError(message), False)
    if isinstance(exc, httpx.ConnectError):
        error, delays = connect_failure(exc, what, endpoint)
        return Failure(error, False, delays=delays)
    if isinstance(exc, httpx.TimeoutException):
        message = f"{what}: {place} timed out after the request was sent"
        return Failure(APITimeoutError(message), True)
    if isinstance(exc, httpx.DecodingError):
        message = f"{what}: unreadable answer from {place}: {exc}"
        return Failure(InvalidResponseError(message), True)
    message = f"{what}: the connection to {place} failed: {exc!r}"
    return Failure(APIConnectionError(message), True)
