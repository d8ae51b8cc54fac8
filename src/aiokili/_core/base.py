"""The core every domain builds on: settings, the HTTP pool, the GraphQL client, the
task group for prefetching, and the listing, bulk, upload and look-up services.

Domains (``projects``, ``assets``, ``labels``...) are sibling classes over
:class:`Domain`: they reach everything through ``self._core`` and never import each
other. :class:`~aiokili.AsyncKili` combines them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from anyio.abc import TaskGroup
from pydantic import BaseModel

from . import constants as C
from .background import Background
from .bulk import run_bulk
from .calls import wrap_public_methods
from .concurrency import Concurrency
from .deadline import starting
from .downloads import Downloads
from .graphql import KiliGraphQLClient
from .http import RetryPolicy
from .listing import Listing, ListingSpec
from .lookups import Lookups
from .settings import Settings
from .transports import new_pool
from .uploads import Uploader

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R")


def auth_headers(api_key: str) -> dict[str, str]:
    """Headers of every API request: Kili's API-key scheme and client identification."""
    return {
        "Authorization": f"X-API-Key: {api_key}",
        "Accept": "application/json",
        "Content-Type": "application/json",
        "apollographql-client-name": "aiokili",
        "apollographql-client-version": C.VERSION,
    }


@dataclass
class Runtime:
    """What clients made by ``with_options`` share: the connection pool and the background
    task group (open inside ``async with``) and the adaptive concurrency of their requests."""

    http: httpx.AsyncClient
    owns_http: bool
    background: Background | None = None
    concurrency: Concurrency = field(default_factory=Concurrency)


class Core:
    """One client's services over a shared :class:`Runtime`."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        headers = auth_headers(settings.api_key)
        self.gql = KiliGraphQLClient(
            url=settings.endpoint,
            http=runtime.http,
            headers=headers,
            policy=RetryPolicy(
                max_retries=settings.max_retries,
                timeout=settings.timeout,
                gate=runtime.concurrency,
                cap=settings.concurrency,
            ),
            endpoint=settings.target,
        )
        self.uploads = Uploader(self.gql, runtime.http, settings, runtime.concurrency)
        self.lookups = Lookups(self.gql)
        self.downloads = Downloads(runtime.http, settings, self.gql.policy)

    @classmethod
    def create(cls, settings: Settings, http_client: httpx.AsyncClient | None) -> Core:
        """A core with its own connection pool, or over the caller's ``http_client``."""
        http = http_client or new_pool(settings.http_transport, settings.concurrency)
        return cls(settings, Runtime(http=http, owns_http=http_client is None))

    def with_settings(self, **options: object) -> Core:
        """A core with some settings changed, over the same pool and task group."""
        return Core(self.settings.replace(**options), self.runtime)

    @property
    def task_group(self) -> TaskGroup | None:
        """Where prefetches and callbacks run; None outside ``async with`` (no prefetch)."""
        background = self.runtime.background
        return None if background is None else background.task_group

    def listing(
        self,
        spec: ListingSpec[M],
        where: BaseModel | Callable[[], Awaitable[BaseModel]],
        *,
        fields: Sequence[str] | None,
        first: int | None,
        skip: int,
    ) -> Listing[M]:
        """A listing of ``spec`` under ``where`` (arguments checked now).

        ``where`` may be a coroutine function, awaited once before the first request, for
        filters that need a look-up (tag labels to ids...)."""
        return Listing(self, spec, where, fields=fields, first=first, skip=skip)

    async def bulk(
        self,
        operation: str,
        items: Sequence[T],
        send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        keys: Sequence[str | None],
        indexes: Sequence[int] | None = None,
        chunk_size: int,
        reconcile: Callable[[Sequence[T]], Awaitable[Sequence[R | None]]] | None = None,
        idempotent: bool = False,
    ) -> list[R]:
        """Send ``items`` in chunks, as many at once as the client's adaptive concurrency
        allows, at most ``settings.concurrency``, within the client's ``deadline`` (see
        ``_core.bulk`` and ``_core.deadline``)."""
        with self.deadline():
            return await run_bulk(
                operation,
                items,
                send,
                keys=keys,
                indexes=range(len(items)) if indexes is None else indexes,
                chunk_size=chunk_size,
                concurrency=self.settings.concurrency,
                gate=self.runtime.concurrency,
                reconcile=reconcile,
                idempotent=idempotent,
            )

    def deadline(self) -> AbstractContextManager[None]:
        """Start the clock of the client's ``deadline`` for the block, unless the current
        call's is running: a call of several bulk runs wraps them all in it, so they
        share one deadline."""
        return starting(self.settings.deadline, self.settings.timeout)


class Domain:
    """Base of the domain method groups: they get the core and nothing else.

    Each public method of a subclass names itself while it runs, so errors name the call
    the user made (``projects()``), not the operation it sent (see ``_core.calls``).
    """

    _core: Core

    def __init__(self, core: Core) -> None:
        self._core = core

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)
