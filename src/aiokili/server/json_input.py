"""JSON the server accepts from a request: strict JSON only, with bounds.

One rule for every JSON the server reads from a client: the request body, the ``JSON``
scalar (filters such as ``where.metadata``) and JSON carried in strings (``jsonResponse``,
``jsonMetadata``, ``jsonInterface``). Refused, with a message naming the argument:

* ``NaN``, ``Infinity`` and ``-Infinity``: Python's ``json`` reads them, they are not JSON;
* nesting deeper than :data:`MAX_DEPTH` (the platform's documents nest a few levels);
* integers beyond 64 bits (SQLite and the platform's database store at most that);
* the character U+0000 in an object key or a string (the platform's database refuses it).

The checks of JSON text cost a few C-speed scans of the text; the value is walked only
when a scan says it may break a rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import ServerError

MAX_DEPTH = 64
INT64 = (-(2**63), 2**63 - 1)
_LONG_NUMBER = re.compile(r"\d{19}")  # fewer digits always fit in 64 bits


class JSONInputError(ValueError):
    """What is wrong with a JSON input (without naming where it came from)."""


def _constant(name: str) -> Any:
    raise JSONInputError(f"{name} is not JSON: write a number or null")


def problem(value: Any) -> str | None:
    """The first rule ``value`` (a parsed JSON value) breaks, or None."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                return f"it nests deeper than {MAX_DEPTH} levels"
            for key, inner in item.items():
                if "\x00" in str(key):
                    return "an object key holds the character U+0000"
                pending.append((inner, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                return f"it nests deeper than {MAX_DEPTH} levels"
            pending.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64[0] <= item <= INT64[1]:
                return f"the integer {str(item)[:30]} is beyond 64 bits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item} is not JSON: write a number or null"
        elif isinstance(item, str) and "\x00" in item:
            return "a string holds the character U+0000"
    return None


def check_value(value: Any) -> Any:
    """``value`` if it keeps the rules, else :class:`JSONInputError` (the ``JSON`` scalar's
    parser: graphql-core reports it as the variable's or argument's error)."""
    found = problem(value)
    if found is not None:
        raise JSONInputError(f"Invalid JSON value: {found}")
    return value


def parse(text: str | bytes) -> Any:
    """The value of JSON ``text``, or :class:`JSONInputError` saying what is wrong."""
    try:
        value = json.loads(text, parse_constant=_constant)
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError(f"it nests deeper than {MAX_DEPTH} levels") from None
    except (TypeError, ValueError) as exc:  # includes UnicodeDecodeError
        raise JSONInputError(str(exc)) from None
    if _may_break_rules(text):
        found = problem(value)
        if found is not None:
            raise JSONInputError(found)
    return value


def _may_break_rules(text: str | bytes) -> bool:
    """Whether a walk is needed: deep enough, a long number, or an escaped U+0000."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return (
        text.count("[") + text.count("{") > MAX_DEPTH
        or "\\u0000" in text
        or _LONG_NUMBER.search(text) is not None
    )


def loads(text: Any, argument: str) -> Any:
    """The value of the JSON text given as ``argument``; a ``BAD_USER_INPUT``
    :class:`ServerError` naming it if the text is not JSON or breaks a rule."""
    if not isinstance(text, str):
        raise ServerError(f"{argument} must be JSON text (a string), got {type(text).__name__}.")
    try:
        return parse(text)
    except JSONInputError as exc:
        raise ServerError(f"{argument} is not valid JSON ({exc}): {text[:80]!r}.") from None
