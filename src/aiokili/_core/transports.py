"""The connection pool of a client: httpx's own transport (the default), or aiohttp's
through ``httpx-aiohttp`` (``pip install "aiokili[aiohttp]"``, ``http_transport="aiohttp"``;
asyncio only, as aiohttp is).

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

import itertools
import math
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx

from ..errors import ConfigurationError
from . import constants as C

HttpTransport = Literal["httpx", "aiohttp"]
TRANSPORTS: tuple[str, ...] = ("httpx", "aiohttp")


def new_pool(transport: HttpTransport, connections: int) -> httpx.AsyncClient:
    """A client's own pool of at most ``connections`` connections over ``transport``."""
    timeout = httpx.Timeout(None, connect=C.CONNECT_TIMEOUT)  # deadlines: RetryPolicy
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    if transport == "httpx":
        return httpx.AsyncClient(timeout=timeout, transport=_Shards(connections))
    return httpx.AsyncClient(timeout=timeout, transport=_aiohttp(limits))


SHARD = 8
"""At most this many connections per httpx pool (see the module's docstring)."""


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
            'http_transport="aiohttp" needs the httpx-aiohttp package: '
            'pip install "aiokili[aiohttp]" (or leave http_transport to its default).'
        ) from None

    class Transport(AiohttpTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            import asyncio  # only here: a trio program never imports it

            try:
                asyncio.get_running_loop()
            except RuntimeError:
                raise ConfigurationError(
                    'http_transport="aiohttp" runs on asyncio only, and this program runs '
                    'another event loop (trio?): leave http_transport to its default ("httpx").'
                ) from None
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
