"""Local checks and input-model building, so bad arguments fail before any request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import KiliInputError

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], **values: Any) -> M:
    """Build a generated input model from the non-None ``values``.

    None means "not given": the key is left out of the request. A value of the wrong type
    or an unknown enum value raises :class:`KiliInputError` naming the argument.
    """
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise KiliInputError(f"Invalid {model.__name__}: {problems}") from None


def same_length(**arrays: Sequence[Any] | None) -> int:
    """Length shared by every given array; raise KiliInputError naming any mismatch."""
    given = {name: len(a) for name, a in arrays.items() if a is not None}
    lengths = set(given.values())
    if len(lengths) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in given.items())
        raise KiliInputError(
            f"Arrays must have one entry per item, but {detail}. Give arrays of equal length."
        )
    return lengths.pop() if lengths else 0


def require(value: Any, message: str) -> None:
    """Raise KiliInputError(message) if ``value`` is None or empty."""
    if value is None or (isinstance(value, (list, tuple, str)) and len(value) == 0):
        raise KiliInputError(message)


def duplicates(values: Sequence[str]) -> list[str]:
    """Values that appear more than once, in first-seen order."""
    seen: set[str] = set()
    dup: dict[str, None] = {}
    for v in values:
        if v in seen:
            dup[v] = None
        seen.add(v)
    return list(dup)
