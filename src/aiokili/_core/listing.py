"""Listings: one object per call of a list method (``kili.labels(...)``...).

```python
async for label in kili.labels(project_id):   # stream, pages prefetched concurrently
    ...
labels = await kili.labels(project_id)          # or the whole list
async for page in kili.labels(project_id).pages():  # or page by page
    ...
n = await kili.labels(project_id).count()       # or how many it would yield
```

Each domain declares its listing once, as a :class:`ListingSpec` (the public model, the
generated page and count operations, the fragment that ``fields=`` replaces).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel

from ..errors import KiliInputError
from .calls import calling, current
from .graphql import KiliGraphQLClient
from .inputs import check_int
from .pagination import iterate_pages, page_plan
from .selection import Selection, build_selection, page_model, with_selection
from .settings import Settings

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class ListingSource(Protocol):
    """What a listing needs of the client's core: its GraphQL client, its settings (page
    size, prefetch) and the task group its prefetching runs in."""

    gql: KiliGraphQLClient
    settings: Settings

    @property
    def task_group(self) -> TaskGroup | None: ...


@dataclass(frozen=True)
class ListingSpec(Generic[M]):
    """What a domain's listing is made of (all generated from ``queries/``)."""

    model: type[M]
    """Public model of one item (e.g. :class:`~aiokili.Label`); ``fields=`` is checked on it."""
    fragment: str
    """Name of the fragment selecting every field of ``model``."""
    page_document: str
    page_operation: str
    count_document: str
    count_operation: str


class Lazy(Generic[T]):
    """A value a listing needs before its first request, made once on first use, however
    many of its pages ask at the same time (the look-up of a ``where``, an interface...).

    Given a value, :meth:`get` returns it; given a coroutine function, the first
    :meth:`get` awaits it (the others wait for that one) and every later one returns its
    result. A failed attempt is not kept: the next :meth:`get` tries again.
    """

    def __init__(self, value: T | Callable[[], Awaitable[T]]) -> None:
        self._make: Callable[[], Awaitable[T]] | None = None
        if callable(value):
            self._make = value
        else:
            self._value = value
        self._lock: anyio.Lock | None = None  # made on first use, in the caller's event loop

    async def get(self) -> T:
        if self._make is None:
            return self._value
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if self._make is not None:  # not made by the task this one waited for
                self._value = await self._make()
                self._make = None
        return self._value


class _Iteration(Generic[T]):
    """One iteration of a listing (``async for``, or ``pages()``): the async generator
    doing the work, closed when the loop is left, however it is left.

    A loop left by ``break`` or an exception drops its iterator without closing it; an
    async generator dropped unfinished is finalized by the event loop (trio warns with a
    ResourceWarning). This wrapper closes it as soon as it is dropped: the listing's
    generators clean up without waiting (they cancel their pages in flight), so closing
    completes at once.
    """

    def __init__(self, generator: AsyncGenerator[T, None]) -> None:
        self._generator = generator

    def __aiter__(self) -> _Iteration[T]:
        return self

    async def __anext__(self) -> T:
        return await self._generator.__anext__()

    async def aclose(self) -> None:
        await self._generator.aclose()

    def __del__(self) -> None:
        closing = self._generator.aclose()
        try:
            closing.send(None)
        except StopIteration:  # closed: nothing left for the event loop to finalize
            return
        except BaseException:  # a finalizer must not raise
            return
        closing.close()  # it would have waited: left to the event loop's finalizer


class Listing(Generic[M]):
    """The items of a list call: ``async for`` streams them, ``await`` gives a list.

    Nothing is sent until you iterate, await, or call :meth:`count`; the arguments were
    already checked when the listing was made. ``async with`` (or :meth:`aclose`) stops
    the pages still in flight when you leave early.
    """

    def __init__(
        self,
        core: ListingSource,
        spec: ListingSpec[M],
        where: BaseModel | Callable[[], Awaitable[BaseModel]] | Lazy[BaseModel],
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
    ) -> None:
        self._core = core
        self._spec = spec
        # or a coroutine function making it (look-ups), run once before the first request
        self._where = where if isinstance(where, Lazy) else Lazy(where)
        self._call = current()  # the public call that made it: its requests' errors name it
        self._skip = check_int("skip", skip, 0)
        self._first = None if first is None else check_int("first", first, 0)
        self._selection: Selection | None = None
        if fields is not None:
            if isinstance(fields, str) or not isinstance(fields, Sequence):
                raise KiliInputError("fields= takes a list of field names, e.g. ['id'].")
            self._selection = build_selection(spec.model, tuple(fields))
        self._open: weakref.WeakSet[_Iteration[Any]] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"<Listing of {self._spec.model.__name__}: skip={self._skip} first={self._first}>"

    async def _total(self) -> int:
        spec = self._spec
        result = await self._core.gql.run_typed(
            spec.count_document, spec.count_operation, {"where": await self._where.get()}
        )
        return int(result.data)

    async def count(self) -> int:
        """How many items this listing yields (the filters' count, after ``skip``/``first``)."""
        with calling(self._call or current()):
            remaining = max(await self._total() - self._skip, 0)
        return remaining if self._first is None else min(remaining, self._first)

    async def _fetch(self, skip: int, first: int) -> Sequence[M]:
        variables = {"where": await self._where.get(), "first": first, "skip": skip}
        spec, gql = self._spec, self._core.gql
        if self._selection is None:
            page = await gql.run_typed(spec.page_document, spec.page_operation, variables)
            return page.data  # type: ignore[no-any-return]
        document = with_selection(spec.page_document, spec.fragment, self._selection.text)
        model = page_model(spec.model, self._selection)
        page = await gql.run_typed(document, spec.page_operation, variables, model)
        return page.data  # type: ignore[no-any-return]

    async def _fetch_for_call(self, skip: int, first: int) -> Sequence[M]:
        with calling(self._call or current()):  # in a prefetch task, after the call returned
            return await self._fetch(skip, first)

    async def _pages(self) -> AsyncGenerator[Sequence[M], None]:
        settings = self._core.settings
        if self._first is not None and self._first <= settings.page_size:
            plan = [(self._skip, self._first)] if self._first else []  # one page: no count
        else:
            plan = page_plan(await self.count(), self._skip, settings.page_size)
        pages = iterate_pages(
            self._fetch_for_call,
            plan,
            prefetch=settings.prefetch,
            task_group=self._core.task_group,
        )
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()

    def _track(self, generator: AsyncGenerator[T, None]) -> _Iteration[T]:
        iteration = _Iteration(generator)
        self._open.add(iteration)
        return iteration

    def pages(self) -> AsyncIterator[Sequence[M]]:
        """Iterate page by page (lists of up to ``page_size`` items)."""
        return self._track(self._pages())

    async def _items(self) -> AsyncGenerator[M, None]:
        pages = self._pages()
        try:
            async for page in pages:
                for item in page:
                    yield item
        finally:
            await pages.aclose()

    def __aiter__(self) -> AsyncIterator[M]:
        return self._track(self._items())

    async def _all(self) -> list[M]:
        return [item async for item in self]

    def __await__(self) -> Generator[Any, None, list[M]]:
        return self._all().__await__()

    async def aclose(self) -> None:
        """Stop every iteration of this listing and cancel its pages in flight."""
        open_, self._open = list(self._open), weakref.WeakSet()
        for generator in open_:
            await generator.aclose()

    async def __aenter__(self) -> Listing[M]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
