"""Custom scalar hooks for the generated client (copied into aiokili._generated)."""

import json
from datetime import datetime, timezone
from typing import Any


def serialize_datetime(value: datetime) -> str:
    """Kili's DateTime wire format: ISO-8601 UTC with milliseconds and a ``Z``."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def parse_json_string(value: Any) -> Any:
    """Decode a JSONString (JSON text on the wire) into Python objects.

    An empty string or null gives ``{}`` (what Kili means by it); text that is not
    JSON is kept as the raw string so no data is lost.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def serialize_json_string(value: Any) -> str:
    """Encode a Python object as JSON text."""
    return value if isinstance(value, str) else json.dumps(value)
