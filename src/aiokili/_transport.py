"""HTTP transport: the generated client plus auth, retries and the aiokili error tree.

Retry policy (GraphQL-aware; a GraphQL ``errors`` body is never retried):

* queries: connection failures, timeouts, 429, 500, 502, 503, 504;
* mutations: only when the server cannot have run them: connection refused, connect
  timeouts, 429, and 503 with ``Retry-After``.

Waits are exponential with full jitter (0.5 s base, 8 s cap), or the server's
``Retry-After`` in seconds (capped at 60 s).
"""

from __future__ import annotations

import random
from typing import Any, cast

import anyio
import httpx

from . import __version__
from ._generated.client import GeneratedClient
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    GraphQLError,
    GraphQLErrorDetail,
    HTTPStatusError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
)

DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
"""Per-request timeout: 120 s to read (big pages, big mutations), 10 s to connect."""

_QUERY_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 60.0


def auth_headers(api_key: str) -> dict[str, str]:
    """Headers sent with every request: Kili's API-key scheme and client identification."""
    return {
        "Authorization": f"X-API-Key: {api_key}",
        "Accept": "application/json",
        "apollographql-client-name": "aiokili",
        "apollographql-client-version": __version__,
    }


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full-jitter exponential."""
    return random.uniform(0, min(8.0, 0.5 * 2**attempt))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER)
    except ValueError:
        return None  # HTTP-date form: fall back to backoff


def _graphql_body(response: httpx.Response) -> dict[str, Any] | None:
    """The decoded body if it is a GraphQL result (has ``data`` or ``errors``), else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and ("data" in body or "errors" in body):
        return body
    return None


def _graphql_error(body: dict[str, Any], status_code: int, operation: str | None) -> GraphQLError:
    details = [GraphQLErrorDetail.from_dict(e) for e in body.get("errors") or []]
    codes = {d.code for d in details}
    cls: type[GraphQLError] = GraphQLError
    if status_code in (401, 403) or codes & {"UNAUTHENTICATED", "FORBIDDEN_API_KEY"}:
        cls = AuthenticationError
    elif "NOT_FOUND" in codes:
        cls = NotFoundError
    return cls(details, data=body.get("data"), status_code=status_code, operation=operation)


class Transport(GeneratedClient):
    """The generated client with retries and typed errors. One per :class:`AsyncKili`."""

    def __init__(
        self,
        *,
        url: str,
        http_client: httpx.AsyncClient,
        headers: dict[str, str],
        max_retries: int,
    ) -> None:
        super().__init__(url=url, http_client=http_client)  # type: ignore[arg-type]
        self._request_headers = headers  # holds the API key: never logged or shown
        self.max_retries = max_retries

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one operation, retrying what is safe to retry (see module docstring)."""
        is_mutation = query.lstrip().startswith("mutation")
        kwargs["headers"] = {**self._request_headers, **kwargs.get("headers", {})}
        attempt = 0
        while True:
            wait: float | None = None
            error: APIError
            try:
                response = cast(
                    httpx.Response,
                    await super().execute(query, operation_name, variables, **kwargs),
                )
            except httpx.ConnectTimeout as exc:
                error = APITimeoutError(
                    f"Timed out connecting to {self.url}", operation=operation_name
                )
                safe = True
                cause: BaseException = exc
            except httpx.ConnectError as exc:
                error = APIConnectionError(
                    f"Could not connect to {self.url}: {exc}. Is the endpoint right and the "
                    "server running?",
                    operation=operation_name,
                )
                safe = True
                cause = exc
            except httpx.TimeoutException as exc:
                error = APITimeoutError(
                    f"{operation_name or 'request'} timed out after it was sent",
                    operation=operation_name,
                )
                safe = not is_mutation
                cause = exc
            except httpx.TransportError as exc:
                error = APIConnectionError(
                    f"Connection to {self.url} failed: {exc!r}", operation=operation_name
                )
                safe = not is_mutation
                cause = exc
            else:
                response.extensions["aiokili.operation"] = operation_name
                status = response.status_code
                if response.is_success or status not in _QUERY_RETRY_STATUSES:
                    return response
                if _graphql_body(response) is not None:
                    return response  # a GraphQL answer: get_data raises it, never retried
                wait = _retry_after(response)
                safe = not is_mutation or status == 429 or (status == 503 and wait is not None)
                error = self._status_error(response, operation_name)
                cause = error
            if not safe or attempt >= self.max_retries:
                raise error from (cause if cause is not error else None)
            attempt += 1
            if wait is None:
                wait = backoff(attempt)
            await anyio.sleep(wait)

    @staticmethod
    def _status_error(response: httpx.Response, operation: str | None) -> HTTPStatusError:
        cls = RateLimitError if response.status_code == 429 else HTTPStatusError
        body = response.text[:500]
        return cls(
            f"HTTP {response.status_code} from the Kili API"
            + (f" for {operation}" if operation else "")
            + (f": {body}" if body else ""),
            status_code=response.status_code,
            body=body,
            retry_after=_retry_after(response),
            operation=operation,
        )

    def get_data(self, response: httpx.Response) -> dict[str, Any]:  # type: ignore[override]
        """Decode a response into ``data`` or raise the matching :class:`APIError`."""
        operation = response.extensions.get("aiokili.operation")
        body = _graphql_body(response)
        if body is None:
            if not response.is_success:
                raise self._status_error(response, operation)
            raise InvalidResponseError(
                f"The Kili API answered HTTP {response.status_code} with a body that is not a "
                f"GraphQL result: {response.text[:200]!r}",
                status_code=response.status_code,
                operation=operation,
            )
        if body.get("errors"):
            raise _graphql_error(body, response.status_code, operation)
        data = body.get("data")
        if not isinstance(data, dict):
            raise InvalidResponseError(
                "The Kili API returned no data and no errors",
                status_code=response.status_code,
                operation=operation,
            )
        return data
