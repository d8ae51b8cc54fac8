"""GraphQL over websockets with both sub-protocols, chosen per connection.

* ``graphql-transport-ws`` (the graphql-ws library's protocol; aiokili speaks it);
* ``graphql-ws``, the legacy Apollo ``subscriptions-transport-ws`` protocol the official
  SDK speaks (its client refuses the handshake unless the server echoes ``graphql-ws``:
  a server that only knows the newer protocol answers it with the wrong sub-protocol,
  or, without a websocket library for uvicorn, a 403).

Both authenticate in ``connection_init`` (``payload.Authorization`` or
``payload.headers.Authorization``: ``X-API-Key: <key>``); ``on_connect`` may leave a
``connection_ack`` payload in ``websocket.state.ack_payload`` (``graphql-transport-ws``). A refused key closes a
``graphql-transport-ws`` connection with code 4403 and the reason, and answers
``connection_error`` on ``graphql-ws``. A connection runs at most ``MAX_OPERATIONS``
operations at once and must send ``connection_init`` within ``INIT_WAIT_S`` seconds.

A frame that is not a JSON object (binary, not JSON, an array, a ``subscribe``/``start``
whose payload is not an object...) closes the connection with 4400 and the reason, on
both protocols, and logs no traceback.

The server holds at most ``MAX_CONNECTIONS`` authenticated connections and, apart from
them, at most ``MAX_UNAUTHENTICATED`` that have not authenticated yet (past either, a new
one is closed with 1013, "try again later"): connections that never authenticate cannot
take the places of clients that do. A connection whose upgrade request carries the key
(``Authorization: X-API-Key: <key>``, as aiokili sends it) is authenticated from the start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from ariadne.asgi.handlers import (
    GraphQLTransportWSHandler,
    GraphQLWebsocketHandlerBase,
    GraphQLWSHandler,
)
from ariadne.asgi.handlers.graphql_transport_ws import ClientContext
from ariadne.exceptions import WebSocketConnectionError
from ariadne.types import Operation
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import error_body, logger

MAX_OPERATIONS = 16
MAX_CONNECTIONS = 256
MAX_UNAUTHENTICATED = 64
INIT_WAIT_S = 10.0
TRY_AGAIN_LATER = 1013
INVALID_MESSAGE = 4400
TRANSPORT_WS, LEGACY_WS = "graphql-transport-ws", "graphql-ws"
REFUSED_REASON = (
    "Missing or invalid API key (connection_init payload Authorization: X-API-Key: <key>)"
)
OnConnect = Callable[[WebSocket, Any], Awaitable[None]]
Identify = Callable[[WebSocket], Awaitable[bool]]


class Refused(WebSocketConnectionError):
    """``on_connect`` refuses the connection: the message goes to the client."""

    def __init__(self, message: str, code: int = 4403) -> None:  # 4403: Forbidden
        super().__init__({"message": message})
        self.message, self.code = message, code


def _invalid(message: Any) -> str | None:
    """Why a decoded frame is not a message of either protocol (None: it is one)."""
    if not isinstance(message, dict):
        return "Invalid message received: each frame must be a JSON object"
    if not isinstance(message.get("type"), str):
        return 'Invalid message received: "type" must be a string'
    kind, payload = message["type"], message.get("payload")
    if kind in ("subscribe", "start") and not isinstance(payload, dict):
        return f'Invalid message received: the payload of "{kind}" must be a JSON object'
    return None


class _StrictWebSocket(WebSocket):
    """A websocket whose ``receive_json`` closes the connection with 4400 and the reason on
    a frame that is not a protocol message, instead of raising into the handler."""

    async def receive_json(self, mode: str = "text") -> Any:
        message = await self.receive()
        self._raise_on_disconnect(message)
        text = message.get("text")
        try:
            data = json.loads(text) if isinstance(text, str) else None
            why = (
                _invalid(data)
                if isinstance(text, str)
                else "Invalid message received: binary frames are not accepted"
            )
        except ValueError:
            why = "Invalid message received: a frame is not JSON"
        if why is not None:
            logger.info("websocket closed: %s", why)
            with suppress(RuntimeError):
                await self.close(INVALID_MESSAGE, why)
            raise WebSocketDisconnect(INVALID_MESSAGE, why)
        return data


def _too_many() -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = error_body(
        f"At most {MAX_OPERATIONS} operations run at once on one connection: complete one "
        "first, or open another connection.",
        "BAD_USER_INPUT",
    )["errors"]
    return errors


class _TransportWS(GraphQLTransportWSHandler):
    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, Any], client_context: ClientContext
    ) -> None:
        if client_context.connection_init_received or self.on_connect is None:
            await super().handle_websocket_connection_init_message(
                websocket, message, client_context
            )
            return
        client_context.connection_init_received = True
        try:
            await self.on_connect(websocket, message.get("payload"))
        except Refused as refused:
            reason = REFUSED_REASON if refused.code == 4403 else refused.message
            await websocket.close(code=refused.code, reason=reason)
            return
        ack: dict[str, Any] = {"type": self.GQL_CONNECTION_ACK}
        if (payload := getattr(websocket.state, "ack_payload", None)) is not None:
            ack["payload"] = payload  # e.g. the label feed's cursor (feed.py)
        await websocket.send_json(ack)
        client_context.connection_acknowledged = True

    async def handle_websocket_subscribe(
        self, websocket: WebSocket, data: Any, operation_id: str, client_context: ClientContext
    ) -> None:
        if len(client_context.operations) >= MAX_OPERATIONS:
            await websocket.send_json(
                {"type": self.GQL_ERROR, "id": operation_id, "payload": _too_many()}
            )
            return
        await super().handle_websocket_subscribe(websocket, data, operation_id, client_context)


class _LegacyWS(GraphQLWSHandler):
    """ariadne's graphql-ws handler, whose result tasks end with their operation (``stop``
    or a closed connection) instead of writing to a closed socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: dict[tuple[int, str], asyncio.Task[Any]] = {}
        self.full: Callable[[WebSocket], str | None] = lambda _: None  # see DualProtocolHandler

    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, Any]
    ) -> None:
        why = self.full(websocket)
        if why is not None:  # closed as on graphql-transport-ws, not a connection_error
            await websocket.close(TRY_AGAIN_LATER, why)
            return
        await super().handle_websocket_connection_init_message(websocket, message)

    async def observe_async_results(
        self, websocket: WebSocket, results: AsyncGenerator[Any, None], operation_id: str
    ) -> None:
        key = (id(websocket), operation_id)
        if (task := asyncio.current_task()) is not None:
            self._tasks[key] = task
        try:
            await super().observe_async_results(websocket, results, operation_id)
        except (WebSocketDisconnect, RuntimeError):  # the client left
            pass
        finally:
            self._tasks.pop(key, None)

    async def stop_websocket_operation(self, websocket: WebSocket, operation: Operation) -> None:
        task = self._tasks.pop((id(websocket), operation.id), None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await super().stop_websocket_operation(websocket, operation)

    async def process_single_message(
        self, websocket: WebSocket, data: Any, operation_id: str, operations: dict[str, Operation]
    ) -> None:
        if isinstance(data, dict) and data.get("type") == self.GQL_CONNECTION_INIT:
            websocket.state.initialized = True
        if len(operations) >= MAX_OPERATIONS:
            await websocket.send_json(
                {"type": self.GQL_ERROR, "id": operation_id, "payload": _too_many()[0]}
            )
            return
        await super().process_single_message(websocket, data, operation_id, operations)


class DualProtocolHandler(GraphQLWebsocketHandlerBase):
    """Serves each connection with the sub-protocol it asks for (see the module docstring)."""

    def __init__(self, on_connect: OnConnect, identify: Identify) -> None:
        super().__init__(on_connect=on_connect)
        self._on_connect, self._identify = on_connect, identify
        self.transport = _TransportWS(
            on_connect=self._authenticate,
            connection_init_wait_timeout=timedelta(seconds=INIT_WAIT_S),
        )
        self.legacy = _LegacyWS(on_connect=self._authenticate, keepalive=20.0)
        self.legacy.full = self._full
        self.connections = 0  # authenticated
        self.unauthenticated = 0

    def _full(self, websocket: WebSocket) -> str | None:
        """Why a connection that is not authenticated yet cannot become so (None: it can)."""
        if getattr(websocket.state, "authenticated", False) or self.connections < MAX_CONNECTIONS:
            return None
        return f"The server holds {MAX_CONNECTIONS} connections"

    async def _authenticate(self, websocket: WebSocket, payload: Any) -> None:
        """``connection_init``: the key is checked; a connection not yet counted as
        authenticated takes an authenticated place, if one is free."""
        await self._on_connect(websocket, payload)
        if getattr(websocket.state, "authenticated", False):
            return
        why = self._full(websocket)
        if why is not None:
            raise Refused(why, TRY_AGAIN_LATER)
        self.unauthenticated -= 1
        self.connections += 1
        websocket.state.authenticated = True

    def configure(self, *args: Any, **kwargs: Any) -> None:
        super().configure(*args, **kwargs)
        self.transport.configure(*args, **kwargs)
        self.legacy.configure(*args, **kwargs)

    def _pick(self, scope: Scope) -> GraphQLWebsocketHandlerBase:
        offered = scope.get("subprotocols") or []
        return (
            self.legacy if LEGACY_WS in offered and TRANSPORT_WS not in offered else self.transport
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle_websocket(_StrictWebSocket(scope=scope, receive=receive, send=send))

    async def _try_again_later(self, websocket: WebSocket, why: str) -> None:
        """Accepted, then closed with 1013: "try again later"."""
        offered = websocket.scope.get("subprotocols") or []
        await websocket.accept(next((p for p in offered if p in (TRANSPORT_WS, LEGACY_WS)), None))
        await websocket.close(TRY_AGAIN_LATER, why)

    async def handle_websocket(self, websocket: WebSocket) -> None:
        if await self._identify(websocket):  # the key in the upgrade request's headers
            if self.connections >= MAX_CONNECTIONS:
                await self._try_again_later(
                    websocket, f"The server holds {MAX_CONNECTIONS} connections"
                )
                return
            self.connections += 1
            websocket.state.authenticated = True
        elif self.unauthenticated >= MAX_UNAUTHENTICATED:
            await self._try_again_later(
                websocket,
                f"The server holds {MAX_UNAUTHENTICATED} connections waiting to authenticate",
            )
            return
        else:
            self.unauthenticated += 1
            websocket.state.authenticated = False
        try:
            handler = self._pick(websocket.scope)
            if handler is self.transport:  # it enforces its own connection_init deadline
                await handler.handle_websocket(websocket)
                return
            watchdog = asyncio.ensure_future(_close_unless_initialized(websocket))
            try:
                await handler.handle_websocket(websocket)
            finally:
                watchdog.cancel()
        finally:
            if websocket.state.authenticated:
                self.connections -= 1
            else:
                self.unauthenticated -= 1


async def _close_unless_initialized(websocket: WebSocket) -> None:
    """graphql-ws has no deadline of its own for ``connection_init``: close the idle socket."""
    await asyncio.sleep(INIT_WAIT_S)
    if not getattr(websocket.state, "initialized", False):
        with suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(4408, "Connection initialisation timeout")
