"""State shared by the domain modules, and the listing helper they all use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from anyio.abc import TaskGroup
from pydantic import BaseModel

from ._pagination import iterate_pages, page_plan
from ._selection import build_selection, parse_items, with_selection
from ._transport import Transport
from .errors import KiliInputError

M = TypeVar("M", bound=BaseModel)


class ClientBase:
    """Attributes and helpers every domain module relies on (set up by AsyncKili)."""

    _gql: Transport
    _http: httpx.AsyncClient
    _task_group: TaskGroup | None
    page_size: int
    prefetch: int
    concurrency: int

    async def _execute(
        self, document: str, operation: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """Run a (dynamic) document and return its ``data``."""
        response = await self._gql.execute(document, operation, variables)
        return self._gql.get_data(response)

    def _listing(
        self,
        *,
        model: type[M],
        fragment: str,
        document: str,
        operation: str,
        where: BaseModel,
        count: Callable[[], Awaitable[int]],
        fetch_default: Callable[[int, int], Awaitable[Sequence[M]]],
        fields: Sequence[str] | None,
        skip: int,
        first: int | None,
    ) -> AsyncIterator[M]:
        """An async iterator over a Kili listing (count, then prefetched pages).

        Arguments are checked now, so bad ones raise before iteration starts.
        """
        if skip < 0:
            raise KiliInputError(f"skip must be >= 0, got {skip}.")
        if first is not None and first < 0:
            raise KiliInputError(f"first must be >= 0 or None (no limit), got {first}.")
        fetch = fetch_default
        if fields is not None:
            if isinstance(fields, str):
                raise KiliInputError("fields= takes a list of field names, not one string.")
            selection = build_selection(model, tuple(fields))
            doc = with_selection(document, fragment, selection)

            async def fetch_selected(page_skip: int, page_first: int) -> Sequence[M]:
                data = await self._execute(
                    doc, operation, {"where": where, "first": page_first, "skip": page_skip}
                )
                return parse_items(model, data["data"], selection)

            fetch = fetch_selected
        return self._iterate(fetch, count, skip, first)

    async def _iterate(
        self,
        fetch: Callable[[int, int], Awaitable[Sequence[M]]],
        count: Callable[[], Awaitable[int]],
        skip: int,
        first: int | None,
    ) -> AsyncIterator[M]:
        if first is not None and first <= self.page_size:
            plan = [(skip, first)] if first else []  # one page: no count needed
        else:
            total = max(await count() - skip, 0)
            plan = page_plan(total if first is None else min(total, first), skip, self.page_size)
        async for item in iterate_pages(
            fetch, plan, prefetch=self.prefetch, task_group=self._task_group
        ):
            yield item
