"""The connection pool of a client: httpx's own transport, aiohttp's through
``httpx-aiohttp`` (asyncio only, as aiohttp is), or both (``"auto"``, the default).

``"auto"`` sends over httpx, which costs nothing to import, and moves a client's new
requests to aiohttp once it keeps ``UPLOADS_FROM`` uploads (PUTs) or ``AIOHTTP_FROM``
requests of any kind (more than a listing's prefetch) in flight on asyncio: aiohttp costs
30-40% less client CPU per upload, and its cost does not grow with the connections as
httpx's does; for a listing the two are within 10%, less than the import would cost.
aiohttp (~150 ms) is imported in a worker thread while the other requests go on over
httpx; only the request that crossed the mark waits for it. Under trio, or without
``httpx-aiohttp`` installed, everything stays on httpx. ``$AIOKILI_AIOHTTP_FROM`` sets the
mark (``0``: aiohttp from the first request).

httpx's pool (httpcore) looks at every connection it holds for every request it sends
(is it idle, has the server closed it), so a pool of 64 connections costs each request
eight times what one of 8 does. The client's connections are therefore split into pools
of at most ``SHARD`` connections, requests dealt to them in turn.

Both are ``httpx.AsyncClient``s, so the retry policy sees the same errors either way: the
aiohttp errors are mapped here by what they say about the request (never opened, so safe
to resend; or lost after sending, so possibly applied), not by ``httpx-aiohttp``'s own
table, which names a connection dropped mid-answer a connect timeout, and would have a
mutation resent after the server may have applied it.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio.to_thread
import httpx

from ..errors import ConfigurationError
from . import constants as C

HttpTransport = Literal["auto", "httpx", "aiohttp"]
TRANSPORTS: tuple[str, ...] = ("auto", "httpx", "aiohttp")
AIOHTTP_FROM = 32
"""Requests in flight from which ``"auto"`` moves a client to aiohttp (see the module's doc)."""
UPLOADS_FROM = 8
"""Uploads (PUTs) in flight from which ``"auto"`` moves a client to aiohttp."""


def new_pool(transport: HttpTransport, connections: int) -> httpx.AsyncClient:
    """A client's own pool of at most ``connections`` connections over ``transport``."""
    timeout = httpx.Timeout(None, connect=C.CONNECT_TIMEOUT)  # deadlines: RetryPolicy
    if transport == "httpx":
        return httpx.AsyncClient(timeout=timeout, transport=_Shards(connections))
    if transport == "auto":
        return httpx.AsyncClient(timeout=timeout, transport=_Auto(connections))
    return httpx.AsyncClient(timeout=timeout, transport=_aiohttp(_limits(connections)))


def _limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def _mark() -> int:
    """``$AIOKILI_AIOHTTP_FROM``, else :data:`AIOHTTP_FROM`."""
    value = os.environ.get("AIOKILI_AIOHTTP_FROM", "").strip()
    if not value:
        return AIOHTTP_FROM
    try:
        mark = int(value)
    except ValueError:
        mark = -1
    if mark < 0:
        raise ConfigurationError(
            f"AIOKILI_AIOHTTP_FROM must be a whole number of requests >= 0, got {value!r}."
        )
    return mark


class _Auto(httpx.AsyncBaseTransport):
    """httpx's pools, then aiohttp's once :func:`_mark` requests are in flight on asyncio."""

    def __init__(self, connections: int) -> None:
        self._connections = connections
        self._httpx = _Shards(connections)
        self._aiohttp: httpx.AsyncBaseTransport | None = None
        self._mark = _mark()
        self._uploads_mark = min(self._mark, UPLOADS_FROM)
        self._moving = False  # aiohttp is being loaded, or cannot be
        self._in_flight = 0
        self._uploads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._aiohttp is not None:
            return await self._aiohttp.handle_async_request(request)
        upload = request.method == "PUT"
        self._in_flight += 1
        self._uploads += upload
        try:
            if not self._moving and (
                self._in_flight >= self._mark or self._uploads >= self._uploads_mark
            ):
                await self._move()
                if self._aiohttp is not None:
                    return await self._aiohttp.handle_async_request(request)
            return await self._httpx.handle_async_request(request)
        finally:
            self._in_flight -= 1
            self._uploads -= upload

    async def _move(self) -> None:
        """Load aiohttp (in a thread) and open its pool; stay on httpx where it cannot run."""
        self._moving = True
        if not _on_asyncio():
            return  # for good: aiohttp runs on asyncio only
        try:
            await anyio.to_thread.run_sync(importlib.import_module, "httpx_aiohttp")
        except Exception:  # not installed, or broken: httpx does the work
            return  # for good
        except BaseException:  # cancelled while loading: the next request tries again
            self._moving = False
            raise
        self._aiohttp = _aiohttp(_limits(self._connections))

    async def aclose(self) -> None:
        try:
            await self._httpx.aclose()
        finally:
            if self._aiohttp is not None:
                await self._aiohttp.aclose()


SHARD = 8
"""At most this many connections per httpx pool (see the module's docstring)."""


def _on_asyncio() -> bool:
    """Whether this runs in an asyncio event loop (never imports asyncio itself)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _Shards(httpx.AsyncBaseTransport):
    """Requests dealt in turn to httpx pools of at most ``SHARD`` connections each."""

    def __init__(self, connections: int) -> None:
        count = max(1, math.ceil(connections / SHARD))
        size = math.ceil(connections / count)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._pools = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(count)]
        self._turn = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def _aiohttp(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        raise ConfigurationError(
            'http_transport="aiohttp" needs the httpx-aiohttp package, a dependency of '
            "aiokili missing here: pip install httpx-aiohttp (or leave http_transport "
            'to its default, "auto", which uses httpx alone without it).'
        ) from None

    class Transport(AiohttpTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not _on_asyncio():
                raise ConfigurationError(
                    'http_transport="aiohttp" runs on asyncio only, and this program runs '
                    'another event loop (trio?): leave http_transport to its default ("auto").'
                )
            try:
                response = await super().handle_async_request(request)
            except httpx.TransportError as exc:
                raise _mapped(exc, request, aiohttp) from exc.__cause__
            response.stream = _Stream(response.stream, request, aiohttp)
            return response

    return Transport(limits=limits)


class _Stream(httpx.AsyncByteStream):
    """An aiohttp answer's body, its errors mapped (see the module's docstring)."""

    def __init__(self, inner: Any, request: httpx.Request, aiohttp: Any) -> None:
        self._inner, self._request, self._aiohttp = inner, request, aiohttp

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise _mapped(exc, self._request, self._aiohttp, answering=True) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


def _mapped(
    exc: httpx.TransportError, request: httpx.Request, aiohttp: Any, *, answering: bool = False
) -> httpx.TransportError:
    """The httpx error that says what an aiohttp error says about ``request``."""
    cause = exc.__cause__
    message = str(cause or exc)
    if not answering:
        if isinstance(cause, aiohttp.ConnectionTimeoutError):
            return httpx.ConnectTimeout(message, request=request)
        if isinstance(cause, aiohttp.ClientConnectorError):  # refused, DNS, unreachable
            return httpx.ConnectError(message, request=request)
    if isinstance(cause, (aiohttp.ServerTimeoutError, TimeoutError)):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return exc
    return httpx.ReadError(message, request=request)  # sent, answer lost: outcome unknown
