"""AsyncKili: the client, the domains' methods over one core."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

import httpx

from ._core.background import Background
from ._core.base import Core, Domain
from ._core.graphql import KiliGraphQLClient
from ._core.results import format_result
from ._core.settings import Settings
from .assets.admin import AssetAdminMethods
from .assets.methods import AssetMethods
from .assets.updates import AssetUpdateMethods
from .exports.methods import ExportMethods
from .issues import IssueMethods
from .labels.geo import GeoLabelMethods
from .labels.methods import LabelMethods
from .labels.mutations import LabelMutationMethods
from .members import MemberMethods
from .models import User
from .organizations import OrganizationMethods
from .plugins.methods import PluginMethods
from .project_copy import ProjectCopyMethods
from .project_versions import ProjectVersionMethods
from .projects import ProjectMethods
from .subscriptions import SubscriptionMethods
from .tags import TagMethods
from .users import UserMethods
from .webhooks import WebhookMethods
from .workflow import WorkflowCopyMethods, WorkflowMethods

T = TypeVar("T")


class AsyncKili(
    ProjectMethods,
    ProjectCopyMethods,
    ProjectVersionMethods,
    TagMethods,
    AssetMethods,
    AssetAdminMethods,
    AssetUpdateMethods,
    LabelMethods,
    GeoLabelMethods,
    LabelMutationMethods,
    IssueMethods,
    MemberMethods,
    UserMethods,
    OrganizationMethods,
    PluginMethods,
    WebhookMethods,
    ExportMethods,
    SubscriptionMethods,
    WorkflowMethods,
    WorkflowCopyMethods,
):
    """Async client of the Kili GraphQL API.

    ```python
    async with AsyncKili() as kili:  # KILI_API_KEY / KILI_API_ENDPOINT from the environment
        project = await kili.create_project(title="t", input_type="TEXT", json_interface=...)
        async for label in kili.labels(project.id):
            print(label.author.email, label.json_response)
    ```

    Building the client sends nothing; ``await kili.verify()`` checks the key on demand.
    Whatever is raised inside ``async with`` comes out as itself.

    Args:
        api_key: Kili API key; default ``$KILI_API_KEY``.
        api_endpoint: GraphQL endpoint URL; default ``$KILI_API_ENDPOINT``, else Kili's cloud.
        timeout: deadline of one request attempt in seconds, whole answer included
            (default 120); downloading a media file, of each read (a large file takes as
            long as data keeps coming).
        max_retries: resends of a failed request where that is safe (default 4).
        page_size: items per page of listings (default 100, at most 1000).
        prefetch: at most this many page requests asked ahead of a listing's loop
            (default 16, at most 24); up to twice ``prefetch`` pages are held in memory.
        concurrency: at most this many requests of this client in flight at once
            (default 128, at most 256; a ``with_options`` copy shares the client's slots,
            so its calls send only while fewer than its own ``concurrency`` are in flight
            in all). Under that cap the client finds how many the API and the latency
            allow, for all its calls together: it starts with 4, adds more while added
            requests do not queue, and takes some back when answers slow down, on
            timeouts and on HTTP 503 (a 429 paces requests below the rate the API
            accepted instead, and a ``Retry-After`` pauses them all).
        deadline: seconds each bulk call (imports, ``append_labels``, deletions, metadata...)
            may take (default None: no deadline). Once passed, no chunk and no retry
            starts; requests in flight finish (each within ``timeout``) and are kept, and
            unknown outcomes are looked up for at most 10 s more. The call then raises
            :class:`~aiokili.errors.BulkOperationError`: ``succeeded`` holds what was done,
            ``failures`` every other item, a :class:`~aiokili.errors.DeadlineExceededError`
            for each one not done. For one call: ``kili.with_options(deadline=30)``.
        http_transport: the connection pool aiokili opens: ``"auto"`` (default: httpx,
            and aiohttp's pool for new requests once 8 uploads or 32 requests are in flight on
            asyncio), ``"httpx"``
            or ``"aiohttp"`` (asyncio only; under trio its first request raises
            :class:`~aiokili.errors.ConfigurationError`).
        http_client: an ``httpx.AsyncClient`` to use instead of aiokili's own (not closed
            by aiokili; its own timeouts apply under ``timeout``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_endpoint: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        page_size: int | None = None,
        prefetch: int | None = None,
        concurrency: int | None = None,
        deadline: float | None = None,
        http_transport: Literal["auto", "httpx", "aiohttp"] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        settings = Settings.resolve(
            api_key,
            api_endpoint,
            timeout=timeout,
            max_retries=max_retries,
            page_size=page_size,
            prefetch=prefetch,
            concurrency=concurrency,
            deadline=deadline,
            http_transport=http_transport,
        )
        super().__init__(Core.create(settings, http_client))
        self._is_clone = False  # with_options() clones share the runtime and never close it
        self._background: Background | None = None  # the task group this client opened

    def __repr__(self) -> str:
        return f"AsyncKili(api_endpoint={self.api_endpoint!r}, api_key='***')"

    @property
    def api_endpoint(self) -> str:
        """The GraphQL endpoint this client talks to."""
        return self._core.settings.endpoint

    @property
    def graphql(self) -> KiliGraphQLClient:
        """The generated typed client, for operations the facade does not wrap."""
        return self._core.gql

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        page_size: int | None = None,
        prefetch: int | None = None,
        concurrency: int | None = None,
        deadline: float | None = None,
    ) -> AsyncKili:
        """A client with some options changed, sharing this one's connections.

        ``await kili.with_options(timeout=5, max_retries=0).count_assets(project_id)``.
        An option given as None keeps this client's value (``deadline=math.inf`` removes a
        deadline).
        Leaving ``async with`` on the clone closes only what the clone opened: never the
        connection pool, nor the task group of a client already open.
        """
        clone = object.__new__(type(self))
        Domain.__init__(
            clone,
            self._core.with_settings(
                timeout=timeout,
                max_retries=max_retries,
                page_size=page_size,
                prefetch=prefetch,
                concurrency=concurrency,
                deadline=deadline,
            ),
        )
        clone._is_clone, clone._background = True, None
        return clone

    async def __aenter__(self) -> AsyncKili:
        runtime = self._core.runtime
        if runtime.background is None:  # a clone of an open client uses its task group
            self._background = runtime.background = Background()
            await self._background.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # May run in another task than __aenter__ (e.g. a pytest-asyncio fixture's
        # teardown): the background task group lives in a task of its own. Prefetches
        # nobody will read are cancelled; the block's own exception propagates as itself.
        runtime = self._core.runtime
        background, self._background = self._background, None
        try:
            if background is not None:
                if runtime.background is background:
                    runtime.background = None
                await background.stop()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (done by ``async with``; a ``with_options`` clone
        leaves them to the client it was made from)."""
        if self._core.runtime.owns_http and not self._is_clone:
            await self._core.runtime.http.aclose()

    async def verify(self) -> User:
        """Check the API key and endpoint with one request; return the key's user.

        Raises AuthenticationError for a wrong key, APIConnectionError if unreachable.
        """
        return (await self._core.gql.viewer()).data

    async def execute(
        self, query: str, variables: dict[str, object] | None = None
    ) -> dict[str, object]:
        """Run any GraphQL document and return its ``data`` (raw JSON, no models).

        The escape hatch for operations aiokili does not wrap yet; errors are raised as
        for every other call. The document is resent after a failure only if it is a
        query.
        """
        result: dict[str, object] = await self._core.gql.run(query, None, dict(variables or {}))
        return result

    @overload
    async def format_result(self, name: str, result: Mapping[str, Any]) -> Any: ...
    @overload
    async def format_result(
        self, name: str, result: Mapping[str, Any], object_: Callable[[Any], T]
    ) -> T | list[T]: ...
    async def format_result(
        self, name: str, result: Mapping[str, Any], object_: Callable[[Any], T] | None = None
    ) -> Any:
        """``result[name]`` with its JSON fields parsed, as the official ``format_result``.

        For raw results of :meth:`execute`: ``jsonInterface``, ``jsonMetadata`` and
        ``jsonResponse`` at any depth become dicts (``{}`` when empty; a URL's JSON document
        is fetched, the key sent only to the API's own URLs). ``object_`` builds each element
        of a list, or the value itself. Raises KiliInputError for a missing ``name`` or a
        field that is not JSON.
        """
        return await format_result(self._core, name, result, object_)
