"""``format_result``: the official SDK's formatting of a raw GraphQL result.

Its JSON fields (``jsonInterface``, ``jsonMetadata``, ``jsonResponse``) come over the wire
as JSON text, or as the URL of a JSON document hosted on a bucket; the official
``Kili.format_result`` turns them into dicts, at any depth, and this does the same for what
:meth:`~aiokili.AsyncKili.execute` returns. ``jsonContent`` is left as it is, as there.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import APIError, KiliInputError
from .base import auth_headers

if TYPE_CHECKING:
    from .base import Core

JSON_FIELDS = frozenset({"jsonInterface", "jsonMetadata", "jsonResponse"})


async def format_result(core: Core, name: str, result: Any, object_: Any = None) -> Any:
    """``result[name]`` with its JSON fields parsed; built with ``object_`` when given (each
    element of a list, or the value itself). URLs are fetched through the retry policy."""
    if not isinstance(result, dict) or name not in result:
        keys = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise KiliInputError(
            f"format_result(): result has no {name!r} to format (it holds {keys}): pass the "
            "name of a field of the result, e.g. the root field of the query."
        )
    value = await _format(core, result[name], path=name)
    if object_ is None:
        return value
    if isinstance(value, list):
        element = getattr(object_, "__args__", (object_,))[0]
        return [element(item) for item in value]
    return object_(value)


async def _format(core: Core, value: Any, *, path: str) -> Any:
    if isinstance(value, list):
        return [await _format(core, item, path=f"{path}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        where = f"{path}.{key}"
        if key not in JSON_FIELDS:
            out[key] = await _format(core, item, path=where)
        elif item is None or item == "":
            out[key] = {}
        elif isinstance(item, str):
            out[key] = await _fetch(core, item, where) if _is_url(item) else _loads(item, where)
        else:
            out[key] = item
    return out


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise KiliInputError(
            f"format_result(): {where} is not valid JSON ({exc}): json fields must hold JSON "
            "text or the URL of a JSON document."
        ) from None


async def _fetch(core: Core, url: str, where: str) -> Any:
    """GET the JSON document at ``url``; the API key only to the API's own URLs."""
    headers = auth_headers(core.settings.api_key) if core.settings.owns(url) else {}

    async def attempt() -> httpx.Response:
        return await core.runtime.http.get(url, headers=headers)

    response = await core.gql.policy.send(attempt, idempotent=True, what=f"GET {where}")
    if response.status_code >= 400:
        raise APIError(f"format_result(): fetching {where} failed: HTTP {response.status_code}.")
    return _loads(response.text, where)
