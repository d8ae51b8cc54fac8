"""Live subscriptions: ``label_created_or_updated`` over websockets (``graphql-transport-ws``).

```python
async with kili.label_created_or_updated(project_id) as labels:
    async for label in labels:   # aiokili.Label, as they are created or updated
        print(label.id, label.author.email if label.author else None)
```

* Each event is a typed :class:`~aiokili.Label`. An ``error`` or a ``next`` carrying
  ``errors`` is raised as the matching :class:`~aiokili.errors.GraphQLError` subclass
  (``NotFoundError`` for an unknown project...); a refused API key as
  :class:`~aiokili.errors.AuthenticationError`. Nothing is dropped silently.
* A lost connection is reopened with the client's retry policy: ``max_retries``
  consecutive failed attempts, full-jitter exponential waits between them (the counter
  starts again once a connection is acknowledged); then ``APIConnectionError``.
* Only what changes after the subscription starts: a label written just before is not
  delivered (the local server's ``connection_ack`` says where its label feed stands, and
  aiokili subscribes from exactly there).
* Resuming: on reconnection aiokili asks the server to replay the project's labels updated
  since the last one received (``updatedAtGte``, minus a small margin for writes committed
  out of timestamp order), never those changed before the subscription started (the same
  feed position; or ``updated_at_gte`` if you gave one), and drops those it already gave
  you (same ``id`` and ``updatedAt``): nothing lost, nothing repeated. A server without
  those arguments (Kili's own API) is subscribed to again without them, and a warning says
  events sent during the gap may be missing.
* Breaking out, ``aclose()``, leaving ``async with`` or cancelling the task closes the
  websocket (``complete`` then a normal close).
* Needs an asyncio event loop (the ``websockets`` package does not run on trio).
"""

from __future__ import annotations

import collections
import inspect
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

import anyio
import pydantic
from anyio.abc import TaskGroup

from ._core import constants as C
from ._core.base import Domain, auth_headers
from ._core.calls import calling
from ._core.graphql import graphql_error
from ._core.http import backoff
from ._generated.operations import (
    LABEL_CREATED_OR_UPDATED_GQL,
    RESUME_LABEL_CREATED_OR_UPDATED_GQL,
)
from ._generated.scalars import serialize_datetime
from .errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    InvalidResponseError,
    KiliError,
    KiliInputError,
)
from .models import Label

logger = logging.getLogger("aiokili.subscriptions")

SUBPROTOCOL = "graphql-transport-ws"
REPLAY_MARGIN = timedelta(seconds=5)
"""Resuming replays from the last label's ``updatedAt`` minus this (labels committed out of
timestamp order are not lost); what was already received is dropped."""
MAX_MESSAGE_BYTES = 64 * 2**20  # one event: a label with a large jsonResponse
_LAGGING = "SUBSCRIBER_LAGGING"  # the server dropped us for being slow: resume at once
_AUTH_CLOSE_CODES = frozenset({4401, 4403})
_FATAL_CLOSE_CODES = frozenset({4400, 4406, 4409, 4429})  # protocol errors: a bug, not a blip

LabelCallback = Callable[[str, Label], Awaitable[None] | None]


class _Reconnect(Exception):
    """The connection must be reopened (``immediately``: without waiting)."""

    def __init__(self, reason: str, *, immediately: bool = False) -> None:
        super().__init__(reason)
        self.immediately = immediately


def ws_url(endpoint: str) -> str:
    """The websocket URL of a GraphQL endpoint (``http`` -> ``ws``, ``https`` -> ``wss``)."""
    return "ws" + endpoint[4:] if endpoint.startswith("http") else endpoint


def _require_asyncio() -> None:
    import asyncio  # here, not at import: ~10 ms that a trio program need not pay

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise ConfigurationError(
            "Subscriptions need an asyncio event loop (the websockets package runs on "
            "asyncio only, not on trio)."
        ) from None


def _refusal(exc: Exception) -> KiliError | None:
    """The error that ends the subscription for good, if a failed connection means one: the
    API key refused (at the handshake or by closing), a protocol error (a bug, not a blip)."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    if isinstance(exc, ConnectionClosed) and exc.rcvd is not None:
        code, reason = exc.rcvd.code, exc.rcvd.reason
        if code in _AUTH_CLOSE_CODES:
            return AuthenticationError.from_message(
                f"The subscription was refused: {reason or 'invalid API key'}. "
                "Check KILI_API_KEY / api_key=.",
                "UNAUTHENTICATED",
                operation="labelCreatedOrUpdated",
            )
        if code in _FATAL_CLOSE_CODES:
            return InvalidResponseError(
                f"The server closed the subscription (code {code}: {reason})."
            )
    if isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403):
        return AuthenticationError.from_message(
            f"The websocket handshake was refused (HTTP {exc.response.status_code})"
            ". Check KILI_API_KEY / api_key= and the endpoint.",
            "UNAUTHENTICATED",
            status_code=exc.response.status_code,
        )
    return None


class LabelSubscription:
    """Labels of a project as they are created or updated; see the module docstring.

    Iterate it (``async for``), once; ``async with`` or :meth:`aclose` closes the websocket.
    Made with a callback, it runs in the client's task group: :meth:`wait` waits for its end
    (and raises what ended it), :meth:`aclose` stops it.
    """

    def __init__(self, domain: Domain, project_id: str, updated_at_gte: datetime | None) -> None:
        self._settings = domain._core.settings
        self.project_id = project_id
        self.subscription_id = f"labels-{project_id}"
        self._resume_from = updated_at_gte
        self._floor = updated_at_gte  # nothing older is ever replayed
        self._feed_start: str | None = None  # the server's label feed cursor when it started
        self._acknowledged = False
        self._resumable = True
        self._seen: collections.OrderedDict[tuple[str, datetime], None] = collections.OrderedDict()
        self._events: AsyncGenerator[Label, None] | None = None
        self._task_done: anyio.Event | None = None
        self._task_scope: anyio.CancelScope | None = None
        self._task_error: BaseException | None = None
        self.reconnections = 0
        """How many times the websocket was reopened (for monitoring)."""

    # -- iteration --------------------------------------------------------------------------

    def __aiter__(self) -> LabelSubscription:
        return self

    async def __anext__(self) -> Label:
        if self._events is None:
            self._events = self._run()
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Close the websocket (and stop the callback task, if any)."""
        if self._task_scope is not None:
            self._task_scope.cancel()
            if self._task_done is not None:
                await self._task_done.wait()
        if self._events is not None:
            await self._events.aclose()

    async def __aenter__(self) -> LabelSubscription:
        """Fix where the subscription starts: labels written inside the block are delivered,
        however late the first ``async for`` comes (one handshake reads the local server's
        feed position; Kili's API gives none, and then it starts at the first iteration)."""
        if self._events is None and not self._acknowledged:
            _require_asyncio()
            from websockets.exceptions import ConnectionClosed, InvalidHandshake

            try:
                async with self._connect() as ws:
                    await self._initialize(ws)
            except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake):
                pass  # the first iteration connects again, and reports what fails
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- callback form ----------------------------------------------------------------------

    def _start(self, task_group: TaskGroup, callback: LabelCallback) -> None:
        self._task_done = anyio.Event()
        self._task_scope = anyio.CancelScope()

        async def deliver() -> None:
            assert self._task_scope is not None and self._task_done is not None
            try:
                with self._task_scope:
                    try:
                        async for label in self:
                            with calling(None):  # the user's code: its calls name themselves
                                result = callback(self.subscription_id, label)
                                if inspect.isawaitable(result):
                                    await result
                    finally:
                        if self._events is not None:
                            await self._events.aclose()
            except Exception as exc:  # kept for wait(), logged: never silent
                self._task_error = exc
                logger.error("label subscription on %s ended: %s", self.project_id, exc)
            finally:
                self._task_done.set()

        task_group.start_soon(deliver)

    async def wait(self) -> None:
        """Wait until a callback subscription ends; raise what ended it, if anything."""
        if self._task_done is None:
            raise KiliInputError("wait() is for subscriptions made with a callback.")
        await self._task_done.wait()
        if self._task_error is not None:
            raise self._task_error

    # -- the connection loop ----------------------------------------------------------------

    async def _run(self) -> AsyncGenerator[Label, None]:
        _require_asyncio()
        try:
            from websockets.exceptions import ConnectionClosed, InvalidHandshake
        except ImportError as exc:  # pragma: no cover - a dependency of aiokili
            raise ConfigurationError("Subscriptions need the 'websockets' package.") from exc
        failures = 0
        while True:
            try:
                async with self._connect() as ws:
                    await self._handshake(ws)
                    failures = 0
                    async for label in self._receive(ws):
                        yield label
                    return  # the server completed the subscription
            except _Reconnect as exc:
                if exc.immediately:
                    self.reconnections += 1
                    logger.info("label subscription: %s; resuming", exc)
                    continue
                error: Exception = exc
            except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake) as exc:
                refused = _refusal(exc)
                if refused is not None:
                    raise refused from None
                error = exc
            failures += 1
            if failures > self._settings.max_retries:
                raise APIConnectionError(
                    f"The label subscription on project {self.project_id} was lost and could "
                    f"not be reopened after {self._settings.max_retries} retries: {error!r}"
                ) from error
            wait = backoff(failures)
            logger.info("label subscription lost (%r); reconnecting in %.1f s", error, wait)
            await anyio.sleep(wait)
            self.reconnections += 1

    def _connect(self) -> Any:
        from websockets.asyncio.client import connect

        return connect(
            ws_url(self._settings.endpoint),
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            additional_headers={"Authorization": f"X-API-Key: {self._settings.api_key}"},
            open_timeout=C.CONNECT_TIMEOUT,
            max_size=MAX_MESSAGE_BYTES,
            user_agent_header=f"aiokili/{C.VERSION}",
        )

    async def _initialize(self, ws: Any) -> None:
        """``connection_init``, then wait for ``connection_ack`` (answering pings)."""
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {
                        "Authorization": f"X-API-Key: {self._settings.api_key}",
                        "headers": auth_headers(self._settings.api_key),
                    },
                }
            )
        )
        with anyio.fail_after(C.CONNECT_TIMEOUT):
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "connection_ack":
                    self._acknowledged_by(message.get("payload"))
                    break
                if message.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))

    async def _handshake(self, ws: Any) -> None:
        await self._initialize(ws)
        variables: dict[str, Any] = {"projectID": self.project_id}
        document, name = LABEL_CREATED_OR_UPDATED_GQL, "LabelCreatedOrUpdated"
        if (self._resume_from is not None or self._feed_start is not None) and self._resumable:
            document, name = RESUME_LABEL_CREATED_OR_UPDATED_GQL, "ResumeLabelCreatedOrUpdated"
            if self._feed_start is not None:  # only labels changed after the subscription started
                variables["after"] = self._feed_start
            if self._resume_from is not None:
                variables["updatedAtGte"] = serialize_datetime(self._replay_since())
        elif self._resume_from is not None:
            logger.warning(
                "label subscription: the server cannot replay missed events; "
                "labels written while disconnected may be missing"
            )
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "id": "1",
                    "payload": {"query": document, "operationName": name, "variables": variables},
                }
            )
        )

    def _acknowledged_by(self, payload: Any) -> None:
        """The first ``connection_ack``: where the server's label feed stands (the local
        server says; Kili's API does not), unless ``updated_at_gte`` asked for history."""
        if self._acknowledged:
            return
        self._acknowledged = True
        found = payload.get("labelFeedCursor") if isinstance(payload, dict) else None
        if isinstance(found, str) and self._floor is None:
            self._feed_start = found

    def _replay_since(self) -> datetime:
        """Where a resumed subscription's replay starts: the last label received, minus
        the margin (exactly ``updated_at_gte`` before any), never before ``updated_at_gte``."""
        assert self._resume_from is not None
        since = self._resume_from - (REPLAY_MARGIN if self._seen else timedelta(0))
        return max(since, self._floor) if self._floor is not None else since

    async def _receive(self, ws: Any) -> AsyncIterator[Label]:
        try:
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    label = self._label(message.get("payload"))
                    if label is not None:
                        yield label
                elif kind == "error":
                    self._raise({"errors": message.get("payload") or []})
                elif kind == "complete":
                    return
        finally:
            if ws.state.name == "OPEN":  # leaving early: tell the server, then close
                with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                    await ws.send(json.dumps({"type": "complete", "id": "1"}))

    def _label(self, payload: Any) -> Label | None:
        if not isinstance(payload, dict):
            raise InvalidResponseError(f"A subscription event is not a GraphQL result: {payload!r}")
        if payload.get("errors"):
            self._raise(payload)
        data = (payload.get("data") or {}).get("data")
        if data is None:
            raise InvalidResponseError("A subscription event carried no label (data is null).")
        try:
            label = Label.model_validate(data)
        except pydantic.ValidationError as exc:
            raise InvalidResponseError(f"A subscription event is not a label: {exc}") from exc
        if label.updated_at is None:
            return label
        key = (label.id, label.updated_at)
        if key in self._seen:
            return None  # replayed after a reconnection: already delivered
        self._seen[key] = None
        if self._resume_from is None or label.updated_at > self._resume_from:
            self._resume_from = label.updated_at
        horizon = self._resume_from - REPLAY_MARGIN  # older keys cannot be replayed again
        while self._seen and next(iter(self._seen))[1] < horizon:
            self._seen.popitem(last=False)
        return label

    def _raise(self, body: dict[str, Any]) -> None:
        error = graphql_error(body, 200, "labelCreatedOrUpdated")
        codes = {detail.code for detail in error.errors}
        if _LAGGING in codes:
            raise _Reconnect("the server dropped this slow subscriber", immediately=True)
        resuming = self._resume_from is not None or self._feed_start is not None
        if resuming and self._resumable and _replay_refused(error):
            # a server that cannot replay (Kili's API): subscribe without it
            self._resumable = False
            raise _Reconnect("the server does not replay events", immediately=True)
        raise error


def _replay_refused(error: GraphQLError) -> bool:
    """Whether the server refused the resume document, whose only difference from the plain
    one is its ``updatedAtGte`` and ``after`` arguments: a validation failure, told by its
    code. A server that sends no code (graphql-ws servers need not) is believed when its
    message names an argument."""
    return any(
        detail.code == "GRAPHQL_VALIDATION_FAILED"
        or (detail.code is None and ("updatedAtGte" in detail.message or "after" in detail.message))
        for detail in error.errors
    )


class SubscriptionMethods(Domain):
    """Subscription methods of :class:`~aiokili.AsyncKili`."""

    def label_created_or_updated(
        self,
        project_id: str,
        callback: LabelCallback | None = None,
        *,
        updated_at_gte: datetime | None = None,
    ) -> LabelSubscription:
        """Labels of a project as they are created or updated, over a websocket.

        ``async with kili.label_created_or_updated(project_id) as labels: async for label
        in labels: ...`` gives :class:`~aiokili.Label` models, reconnecting (and resuming)
        by itself; see :mod:`aiokili.subscriptions`.

        Args:
            project_id: the project to watch.
            callback: the official SDK's form: ``callback(subscription_id, label)`` (a
                function or a coroutine function) is called for each label, in a task of
                the client's task group (inside ``async with AsyncKili()``); the returned
                subscription's ``aclose()`` stops it, ``wait()`` waits for its end. A
                callback that raises ends the subscription (logged, raised by ``wait()``).
            updated_at_gte: also replay the labels updated at or after this instant first
                (servers that support it: the local server).

        Raises (while iterating):
            AuthenticationError, NotFoundError (unknown project), APIConnectionError
            (connection lost and not reopened after ``max_retries`` attempts).
        """
        if not isinstance(project_id, str) or not project_id:
            raise KiliInputError(f"project_id must be a non-empty string, got {project_id!r}.")
        if callback is not None and not callable(callback):
            raise KiliInputError(
                f"callback must be a function (subscription_id, label), got {callback!r}."
            )
        if updated_at_gte is not None and not isinstance(updated_at_gte, datetime):
            raise KiliInputError(f"updated_at_gte must be a datetime, got {updated_at_gte!r}.")
        if updated_at_gte is not None and updated_at_gte.tzinfo is None:
            updated_at_gte = updated_at_gte.replace(tzinfo=timezone.utc)  # naive: UTC
        subscription = LabelSubscription(self, project_id, updated_at_gte)
        if callback is not None:
            task_group = self._core.task_group
            if task_group is None:
                raise KiliInputError(
                    "label_created_or_updated(callback=...) runs in the background of the "
                    "client: call it inside `async with AsyncKili() as kili:`, or iterate "
                    "the subscription (`async for label in kili.label_created_or_updated(p)`)."
                )
            _require_asyncio()
            subscription._start(task_group, callback)
        return subscription


__all__ = ["GraphQLError", "LabelCallback", "LabelSubscription", "SubscriptionMethods"]
