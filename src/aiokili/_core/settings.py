"""Client settings: resolved once from arguments and the environment, then frozen."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ..errors import ConfigurationError, KiliInputError
from . import constants as C
from .deadline import check_deadline
from .inputs import check_int
from .transports import TRANSPORTS, HttpTransport


@dataclass(frozen=True)
class Endpoint:
    """The GraphQL endpoint as error messages name it: its URL and how it was chosen."""

    url: str
    origin: Literal["argument", "environment", "default"] = "argument"

    def __str__(self) -> str:
        if self.origin == "default":
            return f"{self.url} (Kili's cloud: {C.ENDPOINT_ENV} is not set)"
        if self.origin == "environment":
            return f"{self.url} (from {C.ENDPOINT_ENV})"
        return self.url

    @property
    def change(self) -> str:
        """How to point the client elsewhere, to end a sentence with."""
        if self.origin == "default":
            return f"set {C.ENDPOINT_ENV} or pass api_endpoint= to use another server"
        if self.origin == "environment":
            return f"correct {C.ENDPOINT_ENV} (or pass api_endpoint=)"
        return "correct api_endpoint="

    def with_path(self, path: str) -> str:
        """The endpoint's URL with another path (e.g. :data:`~aiokili._core.constants.API_PATH`)."""
        return str(httpx.URL(self.url).copy_with(path=path, query=None, fragment=None))


@dataclass(frozen=True)
class Settings:
    """What an :class:`~aiokili.AsyncKili` was configured with (the key is never shown)."""

    endpoint: str
    api_key: str = field(repr=False)
    timeout: float = C.DEFAULT_TIMEOUT
    max_retries: int = C.DEFAULT_MAX_RETRIES
    page_size: int = C.DEFAULT_PAGE_SIZE
    prefetch: int = C.DEFAULT_PREFETCH
    concurrency: int = C.DEFAULT_CONCURRENCY
    http_transport: HttpTransport = "auto"
    deadline: float | None = None
    """Seconds a bulk call may take (None: no deadline); see ``_core.deadline``."""
    endpoint_origin: Literal["argument", "environment", "default"] = "argument"
    """Where ``endpoint`` came from: ``api_endpoint=``, ``$KILI_API_ENDPOINT`` or the default."""

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
            raise KiliInputError(f"timeout must be a number of seconds, got {self.timeout!r}.")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise KiliInputError(f"timeout must be > 0 seconds, got {self.timeout}.")
        check_int("max_retries", self.max_retries, 0, 100)
        check_int("page_size", self.page_size, 1, C.MAX_PAGE_SIZE)
        check_int("prefetch", self.prefetch, 1, C.MAX_PREFETCH)
        check_int("concurrency", self.concurrency, 1, C.MAX_CONCURRENCY)
        object.__setattr__(self, "deadline", check_deadline(self.deadline))  # inf: None
        if self.http_transport not in TRANSPORTS:
            raise KiliInputError(
                f"http_transport must be one of {', '.join(map(repr, TRANSPORTS))}, "
                f"got {self.http_transport!r}."
            )

    @classmethod
    def resolve(cls, api_key: str | None, api_endpoint: str | None, **options: Any) -> Settings:
        """Settings from arguments, else ``$KILI_API_KEY`` / ``$KILI_API_ENDPOINT``.

        ``options`` given as None keep their defaults. Raises ConfigurationError when
        there is no key or the endpoint is not an http(s) URL.
        """
        key = api_key if api_key is not None else os.environ.get(C.API_KEY_ENV, "")
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError(
                f"No Kili API key: pass AsyncKili(api_key=...) or set {C.API_KEY_ENV}. "
                "Create a key in Kili under My account > API key (`aiokili server` prints one)."
            )
        from_env = os.environ.get(C.ENDPOINT_ENV)
        origin: Literal["argument", "environment", "default"] = (
            "argument" if api_endpoint else "environment" if from_env else "default"
        )
        endpoint = api_endpoint or from_env or C.DEFAULT_ENDPOINT
        try:
            scheme = httpx.URL(endpoint).scheme
        except (httpx.InvalidURL, TypeError):
            scheme = ""
        if scheme not in ("http", "https"):
            name = C.ENDPOINT_ENV if origin == "environment" else "api_endpoint"
            raise ConfigurationError(
                f"{name} must be an http(s) URL, got {endpoint!r} (e.g. {C.DEFAULT_ENDPOINT}, "
                f"or http://127.0.0.1:4000{C.API_PATH} for `aiokili server`)."
            )
        return cls(
            endpoint=endpoint, api_key=key.strip(), endpoint_origin=origin, **_given(options)
        )

    @property
    def target(self) -> Endpoint:
        """The endpoint and where it came from, as error messages name it."""
        return Endpoint(self.endpoint, self.endpoint_origin)

    def replace(self, **options: Any) -> Settings:
        """A copy with the given (non-None) options changed, validated."""
        return dataclasses.replace(self, **_given(options))

    def owns(self, url: str | httpx.URL) -> bool:
        """Whether ``url`` is under the API's own prefix (``…/api/label/v2``), so it may
        receive the API key. Compared on parsed scheme, host, port and path, never on text.
        The one rule of every request that is not a GraphQL call (uploads, media downloads)."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        scheme, host, port, prefix = self._api_root
        return (target.scheme, target.host, target.port) == (scheme, host, port) and (
            target.path + "/"
        ).startswith(prefix)

    def key_header(self, url: str | httpx.URL) -> dict[str, str]:
        """The API-key header for ``url`` if it may receive the key (:meth:`owns`), else
        none: what uploads and media downloads send."""
        return {"Authorization": f"X-API-Key: {self.api_key}"} if self.owns(url) else {}

    @functools.cached_property
    def _api_root(self) -> tuple[str, str, int | None, str]:
        """The endpoint's scheme, host, port and path prefix, parsed once."""
        api = httpx.URL(self.endpoint)
        return api.scheme, api.host, api.port, api.path.rsplit("/graphql", 1)[0].rstrip("/") + "/"


def _given(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if v is not None}
