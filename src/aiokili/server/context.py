"""The per-request GraphQL context and its dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import aiodataloader
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)

from .errors import ServerError
from .settings import Settings
from .store.db import in_thread

if TYPE_CHECKING:
    from .files import Signer
    from .store import Store
    from .store.assets import AssetRow
    from .store.labels import LabelRow
    from .store.members import MemberRow
    from .store.projects import ProjectRow
    from .store.users import UserRow
    from .store.workflow_state import AssetProperties

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class DataLoader(aiodataloader.DataLoader[K, "V | None"]):
    """Batch the ``load(key)`` calls of one event-loop turn into one read of their rows.

    ``read(keys)`` is synchronous (it reads SQLite) and runs in a worker thread; a key it
    does not return is ``None``. Values are cached for the request, so each key is read at
    most once. A read cancelled while it runs (the server stopping) fails its waiters with
    :class:`ServerError` instead of leaving them pending.
    """

    def __init__(self, read: Callable[[Sequence[K]], Mapping[K, V]]) -> None:
        self._read = read
        self.cached: dict[K, asyncio.Future[V | None]] = {}
        super().__init__(self._load_batch, cache_map=self.cached)

    async def _load_batch(self, keys: list[K]) -> list[V | None]:
        try:
            found = await in_thread(self._read, keys)
        except asyncio.CancelledError:
            # Nobody awaits this batch's task: its waiters must hear of the cancellation.
            raise ServerError("The server stopped while reading this field.") from None
        return [found.get(key) for key in keys]

    def load(self, key: K | None) -> asyncio.Future[V | None]:
        """A future for the value of ``key`` (``None`` if absent, or if ``key`` is None).

        A waiter cancelled (its field abandoned) does not cancel the value the other
        fields of the request wait for: each gets its own shield of the cached future.
        """
        if key is None:
            future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
            future.set_result(None)
            return future
        future = super().load(key)
        return future if future.done() else asyncio.shield(future)

    def prime_many(self, values: Mapping[K, V | None]) -> None:
        """Seed the cache with rows read alongside a page (None: known to be absent)."""
        for key, value in values.items():
            self.prime(key, value)

    def get(self, key: K | None) -> V | None | asyncio.Future[V | None]:
        """The value if known (no await needed: the fast, synchronous path), else a future."""
        known = self.cached.get(key) if key is not None else None
        if known is not None and known.done():  # read or primed: no load needed
            return known.result()
        future = self.load(key)
        return future.result() if future.done() else future


@dataclass
class Context:
    """What resolvers get as ``info.context``."""

    store: Store
    user: UserRow
    signer: Signer
    base_url: str  # e.g. http://127.0.0.1:4000 (no trailing slash)
    operation: str = "-"  # for the request log line
    settings: Settings = field(default_factory=Settings)

    def forget_rows(self) -> None:
        """Drop the rows the loaders keep (the request is answered): their futures and the
        loaders refer to each other, a cycle only a full garbage collection would free."""
        for name in _LOADERS:
            loader = self.__dict__.pop(name, None)
            if loader is not None:
                loader.cached.clear()

    @cached_property
    def users(self) -> DataLoader[str, UserRow]:
        """Users by id: those of the caller's organization (a label's author id may name
        anyone: another organization's user reads as no user)."""
        read, organization = self.store.users.by_ids, self.user.organization_id

        def of_organization(ids: Sequence[str]) -> dict[str, UserRow]:
            return {k: u for k, u in read(ids).items() if u.organization_id == organization}

        return DataLoader(of_organization)

    @cached_property
    def projects(self) -> DataLoader[str, ProjectRow]:
        return DataLoader(self.store.projects.by_ids)

    @cached_property
    def assets(self) -> DataLoader[str, AssetRow]:
        return DataLoader(self.store.assets.by_ids)

    @cached_property
    def members_of_project(self) -> DataLoader[str, list[MemberRow]]:
        return DataLoader(self.store.members.of_projects)

    @cached_property
    def labels_of_asset(self) -> DataLoader[str, list[LabelRow]]:
        return DataLoader(self.store.labels.of_assets)

    @cached_property
    def asset_properties(self) -> DataLoader[str, AssetProperties]:
        """An asset's consensus use and resolutions (``None``: none stored)."""
        return DataLoader(self.store.workflow.properties)

    @cached_property
    def sent_back_assets(self) -> DataLoader[str, bool]:
        """``True`` for an asset a send-back put back in the queue (else ``None``)."""
        return DataLoader(self.store.workflow.sent_back_assets)

    @cached_property
    def sent_back_labels(self) -> DataLoader[str, bool]:
        """``True`` for a label a send-back flagged (else ``None``)."""
        return DataLoader(self.store.workflow.sent_back_labels)


_LOADERS = tuple(
    name for name, value in vars(Context).items() if isinstance(value, cached_property)
)


def then(
    found: V | None | asyncio.Future[V | None], fn: Callable[[V | None], T]
) -> T | Awaitable[T]:
    """``fn`` of a loader's ``get``: at once when the value is known, else once it is read."""
    if not isinstance(found, asyncio.Future):
        return fn(found)
    future = found

    async def later() -> T:
        return fn(await future)

    return later()


def selected(info: GraphQLResolveInfo, *under: str) -> set[str]:
    """Names of the fields selected under the current field (fragments included); with
    ``under``, those selected under any of these sub-fields of it (e.g. ``"labels"``)."""
    names: set[str] = set()
    inner: list[SelectionSetNode | None] = []
    pending = [node.selection_set for node in info.field_nodes]
    while pending:
        selection_set = pending.pop()
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                names.add(sel.name.value)
                if sel.name.value in under:
                    inner.append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                pending.append(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in info.fragments:
                pending.append(info.fragments[sel.name.value].selection_set)
        if not pending and under:  # the sub-fields' selections next
            pending, inner, names, under = inner, [], set(), ()
    return names


def context(info: GraphQLResolveInfo) -> Context:
    """The typed context of a resolver."""
    ctx: Context = info.context
    return ctx
