"""The Starlette app: GraphQL (HTTP + websocket), version, signed-URL files, health."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from . import background
from .auth import Authenticator
from .errors import logger
from .faults import FaultInjector, Faults
from .files import FilesEndpoint, Signer
from .http import GraphQLEndpoint
from .limits import QueryLimits
from .live.feed import LabelFeed
from .plugin_runtime.service import PluginService
from .request_ids import RequestIds
from .schema import build_schema, schema_sdl
from .settings import PREFIX, PluginLimits, Settings
from .store import Store, processes

__all__ = ["PREFIX", "create_app"]


def create_app(
    store: Store,
    *,
    latency_ms: float = 0.0,
    max_body_bytes: int | None = None,
    max_upload_bytes: int | None = None,
    signed_url_ttl_s: float | None = None,
    limits: QueryLimits | None = None,
    plugin_limits: PluginLimits | None = None,
    public_url: str = "",
    api_key: str = "",
    tile_threshold_bytes: int | None = None,
    faults: Faults | None = None,
) -> Starlette:
    """The local Kili server as an ASGI app over ``store`` (see :class:`Settings`).

    Its lifespan runs the plugin service (builds and runs, see ``plugin_runtime``); the
    plugin processes reach the server at ``public_url`` (the GraphQL endpoint) with ``api_key``.
    Every answer carries an ``X-Request-Id``; ``faults`` (injected faults and a rate limit,
    see ``server.faults``) apply to GraphQL requests, counted at ``GET /faults`` and in
    ``app.state.faults``.
    """
    settings = _settings(
        latency_ms, max_body_bytes, max_upload_bytes, signed_url_ttl_s, limits, plugin_limits
    )
    if tile_threshold_bytes:
        settings = replace(settings, tile_threshold_bytes=tile_threshold_bytes)
    schema = build_schema()
    signer = Signer(store.files.secret(), settings.signed_url_ttl_s)
    auth = Authenticator(store)
    graphql = GraphQLEndpoint(schema, store, signer, auth, settings)
    routes = _Routes(settings, FilesEndpoint(store, signer, auth, settings))
    faults = faults or Faults()
    app = Starlette(
        lifespan=_lifespan(store, public_url, api_key, settings.plugins, graphql.lane.close),
        middleware=[
            Middleware(RequestIds),
            Middleware(FaultInjector, path=f"{PREFIX}/graphql", faults=faults),
        ],
        routes=[
            Route(f"{PREFIX}/graphql", graphql.app),
            WebSocketRoute(f"{PREFIX}/graphql", graphql.app),
            Route(f"{PREFIX}/version", routes.version, methods=["GET"]),
            Route(f"{PREFIX}/files", routes.files, methods=["GET", "PUT"]),
            Route("/healthz", _health, methods=["GET"]),
        ],
    )
    app.state.faults = faults
    return app


def _settings(
    latency_ms: float,
    max_body_bytes: int | None,
    max_upload_bytes: int | None,
    signed_url_ttl_s: float | None,
    limits: QueryLimits | None,
    plugin_limits: PluginLimits | None,
) -> Settings:
    """The default settings, with what ``create_app`` was given (None or 0: the default)."""
    defaults = Settings()
    return replace(
        defaults,
        latency_ms=latency_ms,
        max_body_bytes=max_body_bytes or defaults.max_body_bytes,
        max_upload_bytes=max_upload_bytes or defaults.max_upload_bytes,
        signed_url_ttl_s=signed_url_ttl_s or defaults.signed_url_ttl_s,
        limits=limits or defaults.limits,
        plugins=plugin_limits or defaults.plugins,
    )


class _Routes:
    """The version and files routes, each answering after the simulated latency."""

    def __init__(self, settings: Settings, files: FilesEndpoint) -> None:
        self.latency_ms = settings.latency_ms
        self.files_endpoint = files
        self.schema_version = hashlib.sha256(schema_sdl().encode()).hexdigest()[:12]

    async def _delay(self) -> None:
        if self.latency_ms > 0:
            await anyio.sleep(self.latency_ms / 1000)

    async def version(self, request: Request) -> Response:
        await self._delay()
        return Response(f'{{"version":"{self.schema_version}"}}', media_type="application/json")

    async def files(self, request: Request) -> Response:
        await self._delay()
        return await self.files_endpoint(request)


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _heartbeat(store: Store) -> None:
    """Say that this process lives; fail the imports dead processes left (processes.py)."""
    while True:
        try:
            failed = await store.db.run_write(processes.beat, store.db)
        except Exception:  # e.g. the database restarting: the next beat tries again
            logger.exception("heartbeat failed")
        else:
            if failed:
                logger.warning("%d imports of stopped server processes marked FAILURE", failed)
        await anyio.sleep(processes.HEARTBEAT_S)


def _lifespan(
    store: Store, public_url: str, api_key: str, limits: PluginLimits, close: Callable[[], None]
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the plugin service, the label feed and the work requests start
    in the background (``background.py``) run while it is up; ``close`` (the heavy lane's)
    runs at its end."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        service = PluginService(store, public_url, api_key, limits)
        feed = LabelFeed(store)  # Subscription.labelCreatedOrUpdated
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(service.run)
            tasks.start_soon(feed.run)
            tasks.start_soon(_heartbeat, store)
            background.attach(store, tasks)  # work requests start (asynchronous imports)
            try:
                yield
            finally:
                background.detach(store)
                tasks.cancel_scope.cancel()
                close()

    return lifespan
