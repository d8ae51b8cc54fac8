"""The GraphQL endpoint: ariadne's ASGI app with API-key auth, body caps and a log line."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.explorer import ExplorerHttp405
from graphql import GraphQLSchema
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from .auth import Authenticator, api_key_of, refusal, unauthorized
from .body import BodyError, decode_operation, read_body
from .context import Context
from .errors import ErrorLog, format_error, logger
from .lane import HeavyLane, encode_json
from .limits import DocumentCache
from .live.feed import feed_cursor
from .live.websocket import DualProtocolHandler, Refused
from .request_ids import SCOPE_KEY as REQUEST_ID
from .store.db import in_thread

if TYPE_CHECKING:
    from .files import Signer
    from .settings import Settings
    from .store import Store


class _Handler(GraphQLHTTPHandler):
    """POST only; authenticates, reads the body with caps, logs one line per request."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        super().__init__()
        self.endpoint = endpoint

    async def handle_request(self, request: Request) -> Response:
        started = time.perf_counter()
        endpoint = self.endpoint
        if endpoint.settings.latency_ms > 0:
            await anyio.sleep(endpoint.settings.latency_ms / 1000)
        operation, errors = "-", 1
        if request.method != "POST":
            response: Response = Response(status_code=405, headers={"Allow": "POST"})
        elif (user := await endpoint.auth.owner(api_key_of(request))) is None or not user.activated:
            response = unauthorized(user)
        else:
            try:
                data = decode_operation(await read_body(request, endpoint.settings.max_body_bytes))
            except BodyError as exc:
                response = exc.response()
            except ClientDisconnect:  # nobody to answer: one line, no traceback
                logger.info("graphql - client disconnected before sending the whole body")
                return Response(status_code=400)
            else:
                ctx = endpoint.context(request, user)
                if endpoint.documents.heavy(data):
                    status, body, errors = await endpoint.lane.run(
                        lambda: self._encoded(request, data, ctx)
                    )
                    response = Response(body, status_code=status, media_type="application/json")
                else:
                    try:
                        success, result = await self.execute_graphql_query(
                            request, data, context_value=ctx
                        )
                    finally:
                        ctx.forget_rows()
                    ok = success or result.get("data") is not None
                    response = JSONResponse(result, status_code=200 if ok else 400)
                    errors = len(result.get("errors") or ())
                operation = ctx.operation
        logger.info(
            "graphql %s status=%d %.1fms errors=%d id=%s",
            operation,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            errors,
            request.scope.get(REQUEST_ID, "-"),  # the answer's X-Request-Id
        )
        return response

    async def _encoded(self, request: Request, data: Any, ctx: Context) -> tuple[int, bytes, int]:
        """Execute and encode as ``JSONResponse`` does (in the heavy lane): the status,
        the body and the number of errors."""
        try:
            success, result = await self.execute_graphql_query(request, data, context_value=ctx)
        finally:
            ctx.forget_rows()
        status = 200 if success or result.get("data") is not None else 400
        return status, encode_json(result), len(result.get("errors") or ())


class GraphQLEndpoint:
    """Builds the ariadne ``GraphQL`` ASGI app (HTTP, graphql-transport-ws and graphql-ws)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        store: Store,
        signer: Signer,
        auth: Authenticator,
        settings: Settings,
    ) -> None:
        self.store, self.signer, self.auth, self.settings = store, signer, auth, settings
        self.documents = DocumentCache(schema, settings.limits)
        self.lane = HeavyLane(concurrency=2)
        self.app = GraphQL(
            schema,
            context_value=self._ws_context,
            query_parser=self.documents.query_parser,
            query_validator=self.documents.query_validator,
            explorer=ExplorerHttp405(),
            logger=ErrorLog(),
            error_formatter=format_error,
            http_handler=_Handler(self),
            websocket_handler=DualProtocolHandler(self._ws_connect, self._ws_identify),
        )

    def context(self, connection: HTTPConnection, user: Any) -> Context:
        base = str(connection.base_url).rstrip("/")
        if base.startswith("ws"):
            base = "http" + base[2:]
        return Context(self.store, user, self.signer, base, settings=self.settings)

    async def _ws_connect(self, websocket: WebSocket, payload: Any) -> None:
        """Subscriptions authenticate with ``connection_init.payload.Authorization``."""
        payload = payload if isinstance(payload, dict) else {}
        header = payload.get("Authorization") or (payload.get("headers") or {}).get("Authorization")
        key = str(header or "").split("X-API-Key:", 1)[-1].strip()
        user = await self.auth.owner(key) if key else None
        if user is None and not key and getattr(websocket.state, "user", None) is not None:
            return  # the key came with the upgrade request
        if user is None or not user.activated:
            raise Refused(refusal(user))
        websocket.state.user = user
        # where the label feed stands: a subscription can start exactly there (feed.py)
        websocket.state.ack_payload = {"labelFeedCursor": await in_thread(feed_cursor, self.store)}

    async def _ws_identify(self, websocket: WebSocket) -> bool:
        """Whether the upgrade request carries an activated user's key (its user is kept:
        ``connection_init`` need not send the key again)."""
        user = await self.auth.owner(api_key_of(websocket))
        if user is None or not user.activated:
            return False
        websocket.state.user = user
        return True

    def _ws_context(self, connection: HTTPConnection, _data: Any) -> Context:
        return self.context(connection, connection.state.user)
