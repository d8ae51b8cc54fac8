"""The per-request GraphQL context and its dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

from graphql import FieldNode, FragmentSpreadNode, GraphQLResolveInfo, InlineFragmentNode

from .store.db import in_thread

if TYPE_CHECKING:
    from .files import Signer
    from .store import Store
    from .store.assets import AssetRow
    from .store.labels import LabelRow
    from .store.projects import ProjectRow
    from .store.users import UserRow

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

    def prime(self, values: Mapping[K, V], keys: Sequence[K] = ()) -> None:
        """Seed the cache with values read alongside a page (``keys`` absent are ``None``)."""
        for key in [*keys, *values]:
            if key not in self._futures:
                future = self._futures[key] = asyncio.get_running_loop().create_future()
                future.set_result(values.get(key))

    def get(self, key: K) -> V | None | asyncio.Future[V | None]:
        """The value if known (no await needed: the fast, synchronous path), else a future."""
        future = self.load(key)
        return future.result() if future.done() else future

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


def selected(info: GraphQLResolveInfo) -> set[str]:
    """Names of the fields selected under the current field (fragments included)."""
    names: set[str] = set()
    pending = [node.selection_set for node in info.field_nodes]
    while pending:
        selection_set = pending.pop()
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                names.add(sel.name.value)
            elif isinstance(sel, InlineFragmentNode):
                pending.append(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in info.fragments:
                pending.append(info.fragments[sel.name.value].selection_set)
    return names


def context(info: GraphQLResolveInfo) -> Context:
    """The typed context of a resolver."""
    ctx: Context = info.context
    return ctx
