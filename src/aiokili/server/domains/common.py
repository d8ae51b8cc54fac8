"""Helpers shared by the domain modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ariadne import ObjectType

from ..errors import ServerError


def page(kw: Mapping[str, Any]) -> tuple[int, int | None]:
    """``(skip, first)`` from a listing's arguments (``first`` is checked by PageSize)."""
    skip, first = kw.get("skip") or 0, kw.get("first")
    if skip < 0:
        raise ServerError(f"skip must be >= 0, got {skip}.")
    return skip, first


def constants(obj: ObjectType, values: Mapping[str, Any]) -> None:
    """Bind fields the local server does not store to fixed values (lists are fresh each time)."""
    for name, value in values.items():

        def resolve(*_: Any, _value: Any = value) -> Any:
            return list(_value) if isinstance(_value, list) else _value

        obj.set_field(name, resolve)


def required_id(where: Mapping[str, Any], what: str = "project") -> str:
    """``where.id``, which this mutation needs."""
    if not where.get("id"):
        raise ServerError(f"where.id is required: give the {what} id.")
    return str(where["id"])
