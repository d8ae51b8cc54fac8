"""Local argument checks, so bad input fails with a clear error before any request.

Every error is a :class:`~aiokili.errors.KiliInputError` that names the argument (and
the position in an array) and says how to fix it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from ..errors import KiliInputError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _where(loc: tuple[int | str, ...]) -> str:
    """``("type_in", 0)`` → ``type_in[0]``; union-member tags (``literal[...]``) dropped."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" not in part and part not in ("function-after", "function-before"):
            out += f".{part}" if out else part
    return out


_EXPECTED = {
    "bool_type": "True or False",
    "string_type": "a str",
    "int_type": "an int",
    "float_type": "a number",
    "dict_type": "a dict",
}


def _got(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def _in_list(name: str, value: Any) -> str:
    """``name=['value']``: a short string argument as the list it should have been."""
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "..."
    return f"{name}=[{shown}]"


def _problem(where: str, err: Any) -> str:
    """One validation error as a sentence naming the argument, what it takes, and what it got."""
    kind, value = err["type"], err.get("input")
    name = where or "the value"
    if kind == "sequence_str" or (kind == "is_instance_of" and "Sequence" in err["msg"]):
        return (
            f"{name} must be a list, got {_got(value)}: pass a list, e.g. {_in_list(where, value)}"
        )
    if kind in _EXPECTED:
        return f"{name} must be {_EXPECTED[kind]}, got {_got(value)}"
    if kind in ("literal_error", "enum"):
        expected = err["msg"].removeprefix("Input should be ")
        return f"{name} must be {expected}, got {value!r:.60}"
    return f"{where}: {err['msg']}" if where else str(err["msg"])


def _problems(exc: ValidationError) -> str:
    """One message per argument; for a union, the message of its Literal member wins."""
    found: dict[str, Any] = {}
    for err in exc.errors():
        where = _where(err["loc"])
        if where not in found or err["type"] == "literal_error":
            found[where] = err
    return "; ".join(_problem(where, err) for where, err in found.items())


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``did you mean "status_in"?`` for a misspelt name (the closest known names, as mypy
    suggests them), or "" when nothing is close."""
    import difflib  # only on a mistake

    ratios = {k: difflib.SequenceMatcher(a=name, b=k).ratio() for k in known}
    close = sorted((k for k, r in ratios.items() if r > 0.75), key=lambda k: (-ratios[k], k))
    quoted = [f'"{k}"' for k in close[:3]]
    if not quoted:
        return ""
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"did you mean {listed}?"


def build(model: type[M], **values: Any) -> M:
    """Build a generated input model from the non-None ``values``.

    None means "not given": the key is left out of the request. A value of the wrong type
    or an unknown enum value raises :class:`KiliInputError` naming the argument.
    """
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise KiliInputError(f"Invalid {model.__name__}: {_problems(exc)}.") from None


FILTERS_CONFIG = ConfigDict(extra="forbid", strict=True)
"""Config of every domain's filters TypedDict (``@with_config(FILTERS_CONFIG)``): unknown
names and wrong types (a str for a list, 1 for a bool) are errors, not coerced."""


@cache
def _adapter(typed_dict: Any) -> TypeAdapter[Any]:
    return TypeAdapter(typed_dict)


def check_filters(typed_dict: type[T], values: Mapping[str, Any], method: str) -> T:
    """Validate keyword filters against their TypedDict (names, types, enum values).

    An unknown name raises :class:`KiliInputError` suggesting the closest filter names, as
    mypy does (``did you mean "status_in"?``), else listing the accepted ones; ``None``
    values mean "not given" and are dropped.
    """
    given = {k: v for k, v in values.items() if v is not None}
    try:
        checked: T = _adapter(cast(Hashable, typed_dict)).validate_python(given)
    except ValidationError as exc:
        unknown = [str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden"]
        if unknown:
            raise KiliInputError(_unknown_filters(method, unknown, typed_dict)) from None
        raise KiliInputError(f"{method}(): {_problems(exc)}.") from None
    return checked


def _unknown_filters(method: str, unknown: Sequence[str], typed_dict: type[Any]) -> str:
    known = sorted(typed_dict.__annotations__)
    helps = {name: did_you_mean(name, known) for name in unknown}
    if len(unknown) == 1:
        head = f'{method}() got an unknown filter "{unknown[0]}"'
        tail = f": {helps[unknown[0]]}" if helps[unknown[0]] else "."
    else:
        named = ", ".join(f'"{n}"' + (f" ({helps[n]})" if helps[n] else "") for n in unknown)
        head, tail = f"{method}() got unknown filters {named}", "."
    if all(helps.values()):
        return head + tail
    return f"{head}{tail} Filters of {method}(): {', '.join(known)}."


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` if it is an int in ``[minimum, maximum]``, else KiliInputError."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise KiliInputError(f"{name} must be an integer, got {type(value).__name__} {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise KiliInputError(f"{name} must be {bound}, got {value}.")
    return value


def check_number(name: str, value: Any, minimum: float, maximum: float) -> float:
    """``value`` if it is a finite number in ``[minimum, maximum]``, else KiliInputError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise KiliInputError(f"{name} must be a number, got {value!r}.")
    if not minimum <= value <= maximum:
        raise KiliInputError(f"{name} must be between {minimum:g} and {maximum:g}, got {value}.")
    return float(value)


def as_list(name: str, value: Any, *kinds: type) -> list[Any] | None:
    """A list/tuple argument as a list, each item checked to be one of ``kinds``.

    ``None`` stays None. A string (which would be iterated per character) or another
    type raises KiliInputError naming the argument; so does a wrong item type, naming
    its position.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise KiliInputError(
            f"{name} must be a list, got {_got(value)}: pass a list, e.g. {_in_list(name, value)}."
        )
    items = list(value)
    for index, entry in enumerate(items):
        if isinstance(entry, bool) and bool not in kinds:
            entry_ok = False
        else:
            entry_ok = isinstance(entry, kinds)
        if not entry_ok:
            expected = " or ".join(k.__name__ for k in kinds)
            raise KiliInputError(
                f"{name}[{index}] must be {expected}, got {type(entry).__name__} {entry!r:.60}."
            )
    return items


_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
"""One encoder for every document (``json.dumps`` with options builds one per call)."""


def json_text(name: str, value: Any, *, objects_only: bool = True) -> str:
    """Encode a JSON document argument (a dict) as the JSON text Kili expects."""
    if objects_only and type(value) is not dict and not isinstance(value, Mapping):
        hint = " (give the dict itself, not its JSON text)" if isinstance(value, str) else ""
        raise KiliInputError(f"{name} must be a dict, got {type(value).__name__}{hint}.")
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise KiliInputError(f"{name} is not JSON-serializable: {exc}.") from None


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


def no_duplicates(name: str, values: Sequence[str] | None) -> None:
    """Raise KiliInputError if ``values`` repeats an entry."""
    seen: set[str] = set()
    dup: dict[str, None] = {}
    for v in values or ():
        if v in seen:
            dup[v] = None
        seen.add(v)
    if dup:
        shown = ", ".join(map(repr, list(dup)[:10]))
        raise KiliInputError(f"{name} has duplicates: {shown}. Each item needs its own id.")


def where_from(
    model: type[M], filters: Mapping[str, Any], paths: Mapping[str, str], **fixed: Any
) -> M:
    """Build a ``where`` input model from checked filters.

    ``paths`` maps each filter name to its dotted field path in ``model`` (e.g.
    ``"asset_status_in": "asset.status_in"``); ``fixed`` values (e.g. ``project``) are
    set as given. Only given filters are set, so only they are sent.
    """
    tree: dict[str, Any] = dict(fixed)
    for name, value in filters.items():
        *parents, leaf = paths[name].split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = list(value) if isinstance(value, (list, tuple)) else value
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        raise KiliInputError(f"Invalid filters: {_problems(exc)}") from None


def check_bools(**values: Any) -> None:
    """Raise KiliInputError for any given value that is not exactly True or False."""
    for name, value in values.items():
        if value is not None and not isinstance(value, bool):
            raise KiliInputError(f"{name} must be True or False, got {value!r}.")


def project_where(
    model: type[M],
    filters_type: type[Any],
    paths: Mapping[str, str],
    method: str,
    project_id: Any,
    filters: Mapping[str, Any],
) -> M:
    """The ``where`` of a listing inside one project: ``project_id`` checked, then the
    filters checked against ``filters_type`` and mapped through ``paths``."""
    if not isinstance(project_id, str) or not project_id:
        raise KiliInputError(f"{method}() needs project_id, the id of the project to search.")
    checked = check_filters(filters_type, filters, method)
    return where_from(model, checked, paths, project={"id": project_id})


def event_matchers(method: str, value: object) -> list[str] | None:
    """``event_matcher`` checked: None, or a list of non-empty strings (sorted, unique)."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise KiliInputError(
            f"{method}(): event_matcher must be a list of event subjects, e.g. "
            f"['asset.skipped'], got {type(value).__name__}."
        )
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise KiliInputError(f"{method}(): event_matcher[{index}] must be a non-empty string.")
    if not value:
        raise KiliInputError(f"{method}(): event_matcher is empty (or give None).")
    return sorted(set(value))
