"""The base of the generated client (copied into aiokili._generated): what its methods call.

aiokili's ``KiliGraphQLClient`` (``aiokili._core.graphql``) sends every operation itself
(``execute``: its retry policy and headers; ``get_data``: answers parsed into the result
models), so this base carries no transport: ariadne-codegen's default one builds an httpx
client of its own and imports websockets on start-up. Subscriptions go through
``AsyncKili.label_created_or_updated``.
"""

from collections.abc import AsyncIterator
from typing import Any, Optional


class KiliBaseClient:
    def __init__(self, url: str = "", http_client: Any = None) -> None:
        self.url = url
        self.http_client = http_client

    async def __aenter__(self) -> "KiliBaseClient":
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(
        self,
        query: str,
        operation_name: Optional[str] = None,
        variables: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> Any:
        raise NotImplementedError("sent by aiokili._core.graphql.KiliGraphQLClient")

    def get_data(self, response: Any) -> Any:
        raise NotImplementedError("read by aiokili._core.graphql.KiliGraphQLClient")

    def execute_ws(
        self,
        query: str,
        operation_name: Optional[str] = None,
        variables: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError(
            "subscriptions: use AsyncKili.label_created_or_updated(project_id)"
        )
