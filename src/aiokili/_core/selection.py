"""Dynamic ``fields=`` selections, built from the generated models.

Kili methods take ``fields=["id", "author.email", ...]``. Each dotted path is checked
against the generated pydantic model of the full fragment (itself generated from
``schema.graphql``); the selection is emitted from the model's own GraphQL names, so
no user text reaches the document. ``id`` is always selected; an object field named alone
(``"author"``) selects all of its fields.

Answers are validated straight from the response bytes into a subclass of the model made
for the selection (:func:`page_model`). So results are instances of the public models
(``isinstance(label, aiokili.Label)``), typed the same, and ``model_fields_set`` says
which fields were selected. A field left out is not there, whatever its type: reading it
raises ``AttributeError`` naming what to add to ``fields=`` (as the official SDK's dicts
raise ``KeyError``), never a ``None`` or ``{}`` that could pass for the real value.
``model_dump()`` leaves it out.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union, cast

from pydantic import BaseModel, Field, create_model

from ..errors import KiliInputError

M = TypeVar("M", bound=BaseModel)


def _unwrap(annotation: Any, owner: type[BaseModel]) -> tuple[Any, bool]:
    """(inner type, nullable) of a field of ``owner``: strips Optional, list, Annotated, and
    resolves a forward reference (Python 3.10 keeps ``list["Label"]``'s argument a string)."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        elif origin in (list, Sequence):
            annotation = typing.get_args(annotation)[0]
        elif isinstance(annotation, (str, typing.ForwardRef)):
            name = annotation if isinstance(annotation, str) else annotation.__forward_arg__
            annotation = getattr(sys.modules[owner.__module__], name)
        else:
            return annotation, nullable


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


@dataclass(frozen=True)
class Selection:
    """A validated selection: its GraphQL text, the (Python names of the) fields left out,
    the nested selections by GraphQL name, and its path from the top (``"author."``)."""

    text: str
    left_out: tuple[str, ...]
    nested: dict[str, Selection]
    path: str = ""


class Unselected:
    """Base of the models of a selection: a field left out is absent from the instance, and
    reading it raises ``AttributeError`` saying what to add to ``fields=``."""

    _left_out: ClassVar[tuple[str, ...]] = ()
    _path: ClassVar[str] = ""

    def model_post_init(self, context: Any, /) -> None:
        for name in self._left_out:  # validated with a default, then removed: not fetched
            self.__dict__.pop(name, None)

    if not TYPE_CHECKING:  # mypy keeps reporting unknown attributes

        def __getattr__(self, name: str) -> Any:
            field = type(self).model_fields.get(name)
            if field is not None and name not in self.__dict__:
                wanted = self._path + (field.alias or name)
                raise AttributeError(
                    f"{name} was not fetched: add {wanted!r} to fields= to read it."
                )
            return super().__getattr__(name)


def _build(model: type[BaseModel], tree: dict[str, Any], path: str) -> Selection:
    by_alias = {(f.alias or name): f for name, f in model.model_fields.items()}
    if not tree:  # an object field named alone: all of its fields
        tree = {alias: {} for alias in by_alias}
    parts: list[str] = []
    nested: dict[str, Selection] = {}
    for alias, sub in tree.items():
        field = by_alias.get(alias)
        if field is None:
            known = ", ".join(sorted(by_alias))
            raise KiliInputError(
                f"Unknown field {path + alias!r} in fields=. Fields available here: {known}."
            )
        inner, _ = _unwrap(field.annotation, model)
        if _is_model(inner):
            child = _build(inner, sub, f"{path}{alias}.")
            nested[alias] = child
            parts.append(f"{alias} {{ {child.text} }}")
        elif sub:
            raise KiliInputError(f"Field {path + alias!r} has no sub-fields; select it alone.")
        else:
            parts.append(alias)
    if "id" in by_alias and "id" not in tree:
        parts.insert(0, "id")  # ids are always selected
    left_out = tuple(
        name
        for name, f in model.model_fields.items()
        if (f.alias or name) not in tree and (f.alias or name) != "id"
    )
    return Selection(" ".join(parts), left_out, nested, path)


@lru_cache(maxsize=256)
def build_selection(model: type[BaseModel], fields: tuple[str, ...]) -> Selection:
    """Validate ``fields`` against ``model`` and build its selection (cached)."""
    if not fields:
        raise KiliInputError("fields= is empty: give at least one field, e.g. fields=['id'].")
    tree: dict[str, Any] = {}
    for path in fields:
        if not isinstance(path, str) or not path:
            raise KiliInputError(f"fields= entries must be non-empty strings, got {path!r}.")
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return _build(model, tree, "")


@lru_cache(maxsize=256)
def with_selection(document: str, fragment: str, selection: str) -> str:
    """The operation of a generated ``document`` with ``selection`` (a :class:`Selection`'s
    text) in place of ``...fragment``.

    Works on the parsed document (graphql-core), never on its text; the fragment
    definitions are dropped, since the new selection does not use them.
    """
    from graphql import (
        FieldNode,
        FragmentSpreadNode,
        OperationDefinitionNode,
        SelectionSetNode,
        parse,
        print_ast,
    )

    fields = parse(f"{{ {selection} }}", no_location=True).definitions[0]
    new_selections = fields.selection_set.selections  # type: ignore[attr-defined]
    (operation,) = [
        d
        for d in parse(document, no_location=True).definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    root = operation.selection_set.selections[0]
    if not isinstance(root, FieldNode) or root.selection_set is None:  # pragma: no cover
        raise RuntimeError(f"{operation.name} has no root field with a selection")
    spreads = [s for s in root.selection_set.selections if isinstance(s, FragmentSpreadNode)]
    if [s.name.value for s in spreads] != [fragment]:  # pragma: no cover - generated documents
        raise RuntimeError(f"...{fragment} must be the selection of {operation.name}")
    root.selection_set = SelectionSetNode(selections=tuple(new_selections))
    return print_ast(operation)


def _swap(annotation: Any, old: type, new: type) -> Any:
    """``annotation`` with the model ``old`` replaced by ``new``, through Optional and list
    (``old`` may stand there as its name: a forward reference)."""
    name = annotation.__forward_arg__ if isinstance(annotation, typing.ForwardRef) else annotation
    if annotation is old or name == old.__name__:
        return new
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return Union[tuple(_swap(a, old, new) for a in typing.get_args(annotation))]  # noqa: UP007
    if origin is list:
        return list[_swap(typing.get_args(annotation)[0], old, new)]  # type: ignore[misc]
    return annotation


def _narrowed(model: type[M], selection: Selection) -> type[M]:
    fields: dict[str, Any] = {}
    for name in selection.left_out:
        field = model.model_fields[name]
        fields[name] = (field.annotation, Field(default=None, alias=field.alias))
    for name, field in model.model_fields.items():
        if (field.alias or name) in selection.nested:
            inner, _ = _unwrap(field.annotation, model)
            sub = _narrowed(inner, selection.nested[field.alias or name])
            fields[name] = (_swap(field.annotation, inner, sub), Field(alias=field.alias))
    bases: Any = (Unselected, model)  # Unselected first: its __getattr__ and post-init win
    narrowed = create_model(model.__name__, __base__=bases, __module__=model.__module__, **fields)
    marks = cast("type[Unselected]", narrowed)
    marks._left_out, marks._path = selection.left_out, selection.path
    return cast("type[M]", narrowed)


_PAGE_MODELS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {}


def page_model(model: type[M], selection: Selection) -> type[BaseModel]:
    """The model of a page answer (``{"data": [...]}``) for ``selection`` of ``model``
    (cached): its items are instances of a subclass of ``model`` without the fields left
    out (see :class:`Unselected`)."""
    key = (model, selection.text)
    if key not in _PAGE_MODELS:
        item = _narrowed(model, selection)
        _PAGE_MODELS[key] = create_model(f"{model.__name__}Page", data=(list[item], ...))  # type: ignore[valid-type]
    return _PAGE_MODELS[key]
