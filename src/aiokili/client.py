"""AsyncKili: the client."""

from __future__ import annotations

import os
from types import TracebackType

import anyio
import httpx
from anyio.abc import TaskGroup

from ._generated.client import GeneratedClient
from ._transport import DEFAULT_TIMEOUT, Transport, auth_headers
from .errors import ConfigurationError, KiliInputError
from .labels import LabelsMixin
from .models import User

DEFAULT_ENDPOINT = "https://cloud.kili-technology.com/api/label/v2/graphql"


class AsyncKili(LabelsMixin):
    """Async client of the Kili GraphQL API.

    ```python
    async with AsyncKili() as kili:  # KILI_API_KEY / KILI_API_ENDPOINT from the environment
        project = await kili.create_project(title="t", input_type="TEXT", json_interface=...)
        async for label in kili.labels(project.id):
            print(label.author.email, label.json_response)
    ```

    Building the client sends nothing; ``await kili.verify()`` checks the key on demand.

    Args:
        api_key: Kili API key; default ``$KILI_API_KEY``.
        api_endpoint: GraphQL endpoint URL; default ``$KILI_API_ENDPOINT``, else Kili's cloud.
        timeout: per-request timeout in seconds (default 120 s to read, 10 s to connect).
        max_retries: retries of a failed request where it is safe (default 4).
        page_size: items per page of listings (default 100, Kili's maximum).
        prefetch: pages fetched ahead concurrently by listings (default 4; 1 = sequential).
        concurrency: requests in flight at once for bulk calls (default 4).
        http_client: an ``httpx.AsyncClient`` to use instead of aiokili's own (not closed
            by aiokili).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_endpoint: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 4,
        page_size: int = 100,
        prefetch: int = 4,
        concurrency: int = 4,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("KILI_API_KEY")
        if not key:
            raise ConfigurationError(
                "No Kili API key: pass AsyncKili(api_key=...) or set KILI_API_KEY. "
                "Create a key in Kili under My account > API key (the local server prints one)."
            )
        endpoint = api_endpoint or os.environ.get("KILI_API_ENDPOINT") or DEFAULT_ENDPOINT
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"api_endpoint must be an http(s) URL, got {endpoint!r} "
                "(e.g. https://cloud.kili-technology.com/api/label/v2/graphql)."
            )
        for name, value in (("page_size", page_size), ("prefetch", prefetch),
                            ("concurrency", concurrency)):  # fmt: skip
            if value < 1:
                raise KiliInputError(f"{name} must be >= 1, got {value}.")
        if max_retries < 0:
            raise KiliInputError(f"max_retries must be >= 0, got {max_retries}.")
        self.api_endpoint = endpoint
        self.page_size = page_size
        self.prefetch = prefetch
        self.concurrency = concurrency
        self._auth_headers = auth_headers(key)
        self._endpoint_prefix = endpoint.replace("/graphql", "")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self._gql = Transport(
            url=endpoint,
            http_client=self._http,
            headers=self._auth_headers,
            max_retries=max_retries,
        )
        self._task_group: TaskGroup | None = None

    def __repr__(self) -> str:
        return f"AsyncKili(api_endpoint={self.api_endpoint!r}, api_key='***')"

    @property
    def graphql(self) -> GeneratedClient:
        """The generated typed client, for operations the facade does not wrap."""
        return self._gql

    async def __aenter__(self) -> AsyncKili:
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task_group, self._task_group = self._task_group, None
        try:
            if task_group is not None:
                task_group.cancel_scope.cancel()  # stop prefetches nobody will read
                await task_group.__aexit__(exc_type, exc, tb)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (done by ``async with``)."""
        if self._owns_http:
            await self._http.aclose()

    async def verify(self) -> User:
        """Check the API key and endpoint with one request; return the key's user.

        Raises AuthenticationError for a wrong key, APIConnectionError if unreachable.
        """
        return (await self._gql.viewer()).data

    async def execute(
        self, query: str, variables: dict[str, object] | None = None
    ) -> dict[str, object]:
        """Run any GraphQL document and return its ``data`` (raw JSON, no models).

        The escape hatch for operations aiokili does not wrap yet; errors are raised as
        for every other call.
        """
        response = await self._gql.execute(query, None, dict(variables or {}))
        return self._gql.get_data(response)
