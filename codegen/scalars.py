"""Custom scalar types and hooks for the generated client (copied into aiokili._generated)."""

from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Field, Json


def serialize_datetime(value: datetime) -> str:
    """Kili's DateTime wire format: ISO-8601 UTC with milliseconds and a ``Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def _empty_document(_: str) -> dict[str, Any]:
    return {}


JSONText = Annotated[
    Union[Json[Any], Annotated[Literal[""], AfterValidator(_empty_document)], Any],
    Field(union_mode="left_to_right"),
]
"""A JSONString (JSON text on the wire) decoded into Python objects, in pydantic-core.

An empty string gives ``{}`` (what Kili means by it); text that is not JSON, or a value
that was already decoded, is kept as it is so no data is lost.
"""
