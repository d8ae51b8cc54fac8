"""Custom scalar types and hooks for the generated client (copied into aiokili._generated)."""

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, Field, Json


def serialize_datetime(value: datetime) -> str:
    """Kili's DateTime wire format: ISO-8601 UTC with milliseconds and a ``Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def _empty_document(_: object) -> dict[str, Any]:
    return {}


if TYPE_CHECKING:
    JSONObject = dict[str, Any]
else:
    JSONObject = Annotated[
        Union[
            Json[dict[str, Any]],
            Annotated[Literal[""], AfterValidator(_empty_document)],
            Annotated[None, AfterValidator(_empty_document)],
            dict[str, Any],
        ],
        Field(union_mode="left_to_right"),
    ]
"""A JSONString (the JSON text of an object on the wire) decoded into a ``dict``.

Decoded in pydantic-core. An empty string or null gives ``{}`` (what Kili means by them); a
value already decoded is kept. Text that is not the JSON of an object fails validation
instead of giving a value of another type than the one declared.
"""
