"""Helpers shared by the domain modules."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from ariadne import ObjectType

from ..errors import ServerError

if TYPE_CHECKING:
    from ..context import Context
    from ..store.users import UserRow

ANONYMIZED = "Anonymized"
"""The name the authors of an anonymized project's labels and issues show."""


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


def shown_author(ctx: Context, project_id: str, author: Any) -> Any:
    """``author`` (a user row, None, or an awaitable of either) as the project shows it:
    with ``firstname`` "Anonymized" and no ``lastname`` when the project is anonymized
    (``updateProjectAnonymization``); its id and email are kept."""
    if project_id not in ctx.store.projects.anonymized:
        return author
    if isinstance(author, Awaitable):

        async def later() -> UserRow | None:
            return _anonymous(await author)

        return later()
    return _anonymous(author)


def _anonymous(user: UserRow | None) -> UserRow | None:
    return None if user is None else dataclasses.replace(user, firstname=ANONYMIZED, lastname=None)
