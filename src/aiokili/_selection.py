"""Dynamic ``fields=`` selections, built from the generated models.

Kili methods take ``fields=["id", "author.email", ...]``. Each dotted path is checked
against the generated pydantic model of the full fragment (itself generated from
``schema.graphql``); the selection is emitted from the model's own GraphQL names, so
no user text reaches the document. Non-null fields (``id``...) are always selected, so
results validate into the same typed models as the default selection; fields that were
not selected read as ``None``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar, Union

from pydantic import BaseModel

from .errors import KiliInputError

M = TypeVar("M", bound=BaseModel)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, nullable) of a field annotation: strips Optional, list, Annotated."""
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
        else:
            return annotation, nullable


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


@dataclass(frozen=True)
class Selection:
    """A validated selection: the GraphQL text and how to complete each result."""

    text: str
    defaults: dict[str, None]
    nested: dict[str, Selection]

    def complete(self, item: Any) -> Any:
        """Add ``None`` for every unselected field so the item validates into the model."""
        if isinstance(item, list):
            return [self.complete(i) for i in item]
        if not isinstance(item, dict):
            return item
        out = {**self.defaults, **item}
        for key, sub in self.nested.items():
            if out.get(key) is not None:
                out[key] = sub.complete(out[key])
        return out


def _build(model: type[BaseModel], tree: dict[str, Any], path: str) -> Selection:
    by_alias = {(f.alias or name): f for name, f in model.model_fields.items()}
    parts: list[str] = []
    nested: dict[str, Selection] = {}
    for alias, sub in tree.items():
        field = by_alias.get(alias)
        if field is None:
            known = ", ".join(sorted(by_alias))
            raise KiliInputError(
                f"Unknown field {path + alias!r} in fields=. Fields available here: {known}."
            )
        inner, _ = _unwrap(field.annotation)
        if _is_model(inner):
            child = _build(inner, sub or {}, f"{path}{alias}.")
            nested[alias] = child
            parts.append(f"{alias} {{ {child.text} }}")
        elif sub:
            raise KiliInputError(f"Field {path + alias!r} has no sub-fields; select it alone.")
        else:
            parts.append(alias)
    for alias, field in by_alias.items():
        inner, nullable = _unwrap(field.annotation)
        if not nullable and not _is_model(inner) and alias not in tree:
            parts.insert(0, alias)  # non-null leaves (ids) are always selected
    defaults = {alias: None for alias in by_alias if alias not in tree}
    return Selection(" ".join(parts), defaults, nested)


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
        d for d in parse(document, no_location=True).definitions
        if isinstance(d, OperationDefinitionNode)
    ]  # fmt: skip
    root = operation.selection_set.selections[0]
    if not isinstance(root, FieldNode) or root.selection_set is None:  # pragma: no cover
        raise RuntimeError(f"{operation.name} has no root field with a selection")
    spreads = [s for s in root.selection_set.selections if isinstance(s, FragmentSpreadNode)]
    if [s.name.value for s in spreads] != [fragment]:  # pragma: no cover - generated documents
        raise RuntimeError(f"...{fragment} must be the selection of {operation.name}")
    root.selection_set = SelectionSetNode(selections=tuple(new_selections))
    return print_ast(operation)


def parse_items(model: type[M], items: Sequence[Any], selection: Selection) -> list[M]:
    """Validate raw result items selected with ``selection`` into ``model``."""
    return [model.model_validate(selection.complete(item)) for item in items]
