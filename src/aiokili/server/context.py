"""The per-request GraphQL context and its dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

from graphql import GraphQLResolveInfo

from .db import in_thread

if TYPE_CHECKING:
    from .domains.assets import AssetRow
    from .domains.labels import LabelRow
    from .domains.projects import ProjectRow
    from .domains.users import UserRow
    from .files import Signer
    from .store import Store

K = TypeVar("K")
V = TypeVar("V")


class DataLoader(Generic[K, V]):
    """Batch the ``load(key)`` calls of one event-loop turn into one ``batch(keys)`` call.

    ``batch`` is synchronous (it reads SQLite) and runs in a worker thread; results are
    cached for the request, so each key is read at most once.
    """

    def __init__(self, batch: Callable[[Sequence[K]], Mapping[K, V]]) -> None:
        self._batch = batch
        self._futures: dict[K, asyncio.Future[V | None]] = {}
        self._queue: list[K] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def load(self, key: K) -> asyncio.Future[V | None]:
        """A future for the value of ``key`` (``None`` if absent)."""
        found = self._futures.get(key)
        if found is None:
            loop = asyncio.get_running_loop()
            found = self._futures[key] = loop.create_future()
            if not self._queue:
                loop.call_soon(self._dispatch)
            self._queue.append(key)
        return found

    def _dispatch(self) -> None:
        keys, self._queue = self._queue, []
        task = asyncio.ensure_future(self._run(keys))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, keys: list[K]) -> None:
        try:
            values = await in_thread(self._batch, keys)
        except Exception as exc:  # every waiter gets the error
            for key in keys:
                self._futures[key].set_exception(exc)
            return
        for key in keys:
            self._futures[key].set_result(values.get(key))


@dataclass
class Context:
    """What resolvers get as ``info.context``."""

    store: Store
    user: UserRow
    signer: Signer
    base_url: str  # e.g. http://127.0.0.1:4000 (no trailing slash)
    operation: str = "-"  # for the request log line

    @cached_property
    def users(self) -> DataLoader[str, UserRow]:
        return DataLoader(self.store.users.by_ids)

    @cached_property
    def projects(self) -> DataLoader[str, ProjectRow]:
        return DataLoader(self.store.projects.by_ids)

    @cached_property
    def assets(self) -> DataLoader[str, AssetRow]:
        return DataLoader(self.store.assets.by_ids)

    @cached_property
    def labels_of_asset(self) -> DataLoader[str, list[LabelRow]]:
        return DataLoader(self.store.labels.of_assets)


def context(info: GraphQLResolveInfo) -> Context:
    """The typed context of a resolver."""
    ctx: Context = info.context
    return ctx
