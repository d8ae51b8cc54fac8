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
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel
from pydantic_core import CoreSchema, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from . import _constants as C
from ._graphql import read_result
from ._inputs import check_int
from ._pagination import iterate_pages, page_plan
from ._selection import Selection, build_selection, parse_items, with_selection
from .errors import KiliInputError

if TYPE_CHECKING:
    from ._core import Core

M = TypeVar("M", bound=BaseModel)


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


class _Unsupported(Exception):
    """A core schema shape the selection parser does not handle (the slow path is used)."""


def _slot_setter(cls: type[BaseModel], name: str) -> Callable[[Any, Any], None]:
    """A fast setter of the slot ``name`` of ``cls`` instances (its member descriptor)."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if descriptor is not None and hasattr(descriptor, "__set__"):
            return cast("Callable[[Any, Any], None]", descriptor.__set__)
    return lambda instance, value: object.__setattr__(instance, name, value)  # pragma: no cover


def _builder(cls: type[BaseModel]) -> Callable[[Any], BaseModel]:
    """Makes a ``cls`` instance from validated ``model-fields`` output, every field set:
    what ``cls.model_validate`` of a dict holding every field makes."""
    if cls.__pydantic_post_init__ is not None or cls.__private_attributes__:  # pragma: no cover
        raise _Unsupported("post-init or private attributes")
    every = set(cls.model_fields).copy
    new, set_dict = object.__new__, object.__setattr__
    set_fields_set = _slot_setter(cls, "__pydantic_fields_set__")
    set_extra = _slot_setter(cls, "__pydantic_extra__")
    set_private = _slot_setter(cls, "__pydantic_private__")

    def build(fields: tuple[dict[str, Any], Any, Any]) -> BaseModel:
        instance = new(cls)
        set_dict(instance, "__dict__", fields[0])
        set_fields_set(instance, every())
        set_extra(instance, fields[1])
        set_private(instance, None)
        return instance

    return build


def _variant(schema: Any, selection: Selection, defs: dict[str, Any]) -> Any:
    """The core schema of ``schema`` (a model, possibly nullable or in a list) for answers
    selected with ``selection``: the fields left out default to None.

    pydantic-core reuses a model class's own validator wherever its schema names the
    class, so the variant validates the fields and builds the instance itself."""
    kind = schema["type"]
    if kind == "definition-ref":
        return _variant(defs[schema["schema_ref"]], selection, defs)
    if kind == "nullable":
        return {**schema, "schema": _variant(schema["schema"], selection, defs)}
    if kind == "list":
        return {**schema, "items_schema": _variant(schema["items_schema"], selection, defs)}
    if kind != "model" or schema["schema"]["type"] != "model-fields" or schema.get("post_init"):
        raise _Unsupported(kind)
    fields: dict[str, Any] = {}
    for name, field in schema["schema"]["fields"].items():
        alias = field.get("validation_alias", name)
        if not isinstance(alias, str):
            raise _Unsupported("alias paths")
        if alias in selection.defaults:
            field = {**field, "schema": cs.with_default_schema(field["schema"], default=None)}
        elif alias in selection.nested:
            field = {**field, "schema": _variant(field["schema"], selection.nested[alias], defs)}
        fields[name] = field
    model_fields = {**schema["schema"], "fields": fields}
    return cs.no_info_after_validator_function(_builder(schema["cls"]), model_fields)


class SelectionParser(Generic[M]):
    """Parses a page answer for a ``fields=`` selection straight from the response bytes.

    Gives what decoding the JSON, completing each item with None for the fields not
    selected and validating it (``parse_items``) gives, in one pass of pydantic-core.
    Anything but a clean answer (errors, HTTP failure, data not matching) returns None,
    so the caller takes the slow path and raises exactly what it always raised.
    """

    def __init__(self, model: type[M], selection: Selection) -> None:
        schema: Any = model.__pydantic_core_schema__
        defs: dict[str, Any] = {}
        if schema["type"] == "definitions":
            defs = {d["ref"]: d for d in schema["definitions"]}
            schema = schema["schema"]
        item = _variant(schema, selection, defs)
        page = cs.typed_dict_schema({"data": cs.typed_dict_field(cs.list_schema(item))})
        envelope: CoreSchema = cs.typed_dict_schema(
            {
                "data": cs.typed_dict_field(cs.nullable_schema(page), required=False),
                "errors": cs.typed_dict_field(
                    cs.nullable_schema(cs.list_schema(cs.any_schema())), required=False
                ),
            }
        )
        if defs:
            envelope = cs.definitions_schema(envelope, list(defs.values()))
        self._validator = SchemaValidator(envelope, schema.get("config"))

    @classmethod
    def create(cls, model: type[M], selection: Selection) -> SelectionParser[M] | None:
        """The (cached) parser of ``selection``, or None where its schema is not handled."""
        key = (model, selection.text)
        if key not in _PARSERS:
            try:
                _PARSERS[key] = cls(model, selection)
            except (_Unsupported, KeyError):  # pragma: no cover - generated models are handled
                _PARSERS[key] = None
        return cast("SelectionParser[M] | None", _PARSERS[key])

    def parse(self, response: httpx.Response) -> list[M] | None:
        """The items of a clean answer, or None."""
        if not response.is_success:
            return None
        try:
            body = self._validator.validate_json(response.content)
        except ValidationError:
            return None
        if body.get("errors") or body.get("data") is None:
            return None
        items: list[M] = body["data"]["data"]
        return items


_PARSERS: dict[tuple[type[BaseModel], str], SelectionParser[Any] | None] = {}


class Listing(Generic[M]):
    """The items of a list call: ``async for`` streams them, ``await`` gives a list.

    Nothing is sent until you iterate, await, or call :meth:`count`; the arguments were
    already checked when the listing was made. ``async with`` (or :meth:`aclose`) stops
    the pages still in flight when you leave early.
    """

    def __init__(
        self,
        core: Core,
        spec: ListingSpec[M],
        where: BaseModel,
        *,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
    ) -> None:
        self._core = core
        self._spec = spec
        self._where = where
        self._skip = check_int("skip", skip, 0)
        self._first = None if first is None else check_int("first", first, 0)
        self._selection: Selection | None = None
        self._parser: SelectionParser[M] | None = None
        if fields is not None:
            if isinstance(fields, str) or not isinstance(fields, Sequence):
                raise KiliInputError("fields= takes a list of field names, e.g. ['id'].")
            self._selection = build_selection(spec.model, tuple(fields))
        self._open: weakref.WeakSet[AsyncGenerator[Any, None]] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"<Listing of {self._spec.model.__name__}: skip={self._skip} first={self._first}>"

    async def _total(self) -> int:
        spec = self._spec
        result = await self._core.gql.run_typed(
            spec.count_document, spec.count_operation, {"where": self._where}
        )
        return int(result.data)

    async def count(self) -> int:
        """How many items this listing yields (the filters' count, after ``skip``/``first``)."""
        remaining = max(await self._total() - self._skip, 0)
        return remaining if self._first is None else min(remaining, self._first)

    async def _fetch(self, skip: int, first: int) -> Sequence[M]:
        variables = {"where": self._where, "first": first, "skip": skip}
        spec, gql = self._spec, self._core.gql
        if self._selection is None:
            page = await gql.run_typed(spec.page_document, spec.page_operation, variables)
            return page.data  # type: ignore[no-any-return]
        document = with_selection(spec.page_document, spec.fragment, self._selection.text)
        if self._parser is None:
            self._parser = SelectionParser.create(spec.model, self._selection)
        response = await gql.execute(document, spec.page_operation, variables)
        if self._parser is not None and (items := self._parser.parse(response)) is not None:
            return items
        data = read_result(response, spec.page_operation, None)
        return parse_items(spec.model, data["data"], self._selection)

    async def _pages(self) -> AsyncGenerator[Sequence[M], None]:
        settings = self._core.settings
        if self._first is not None and self._first <= settings.page_size:
            plan = [(self._skip, self._first)] if self._first else []  # one page: no count
        else:
            plan = page_plan(await self.count(), self._skip, settings.page_size)
        pages = iterate_pages(
            self._fetch,
            plan,
            initial=C.INITIAL_PREFETCH,
            prefetch=settings.prefetch,
            task_group=self._core.task_group,
        )
        try:
            async for page in pages:
                yield page
        finally:
            await pages.aclose()  # type: ignore[attr-defined]

    def _track(self, generator: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        self._open.add(generator)
        return generator

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
