"""Filters evaluated in Python: asset metadata, label criteria, author names, search."""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ServerError

Row = dict[str, Any]


def _metadata_ok(metadata_text: str | None, wanted: dict[str, Any]) -> bool:
    try:
        metadata = json.loads(metadata_text or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        return False
    for key, value in wanted.items():
        actual = metadata.get(key)
        if isinstance(value, list):
            numeric = len(value) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
            )
            if numeric:
                if not isinstance(actual, (int, float)) or not value[0] <= actual <= value[1]:
                    return False
            elif actual not in value:
                return False
        elif actual != value:
            return False
    return True


def _author_ok(author: Row | None, names: list[str]) -> bool:
    if author is None:
        return False
    first, last = author.get("firstname") or "", author.get("lastname") or ""
    candidates = {first, last, f"{first} {last}".strip(), author["email"], author["id"]}
    return any(name in candidates for name in names)


def _label_ok(label: Row, where: Row, users: dict[str, Row]) -> bool:
    if where.get("typeIn") and label["labelType"] not in where["typeIn"]:
        return False
    if where.get("authorIn") and not _author_ok(users.get(label["authorId"]), where["authorIn"]):
        return False
    created = label["createdAt"]
    if where.get("createdAt") and created[:10] != where["createdAt"][:10]:
        return False
    if where.get("createdAtGte") and created < where["createdAtGte"]:
        return False
    if where.get("createdAtLte") and created[: len(where["createdAtLte"])] > where["createdAtLte"]:
        return False
    for mark in ("consensusMark", "honeypotMark"):
        if where.get(mark + "Gte") is not None or where.get(mark + "Lte") is not None:
            return False  # marks are not computed by the local server
    if where.get("search") and not search_matches(where["search"], label["jsonResponse"]):
        return False
    return True


def asset_matches_python(asset: Row, where: Row, labels: list[Row], users: dict[str, Row]) -> bool:
    """The AssetWhere parts SQL does not handle: ``metadata`` and ``label``."""
    if where.get("metadata") and not _metadata_ok(asset["jsonMetadata"], where["metadata"]):
        return False
    label_where = where.get("label") or {}
    if label_where and not any(_label_ok(lb, label_where, users) for lb in labels):
        return False
    return True


def label_matches_python(
    label: Row, where: Row, assets: dict[str, Row], users: dict[str, Row]
) -> bool:
    """The LabelWhere parts SQL does not handle: authors, search, asset metadata."""
    if where.get("authorIn") and not _author_ok(users.get(label["authorId"]), where["authorIn"]):
        return False
    if where.get("search") and not search_matches(where["search"], label["jsonResponse"]):
        return False
    asset_where = where.get("asset") or {}
    if asset_where.get("metadata"):
        asset = assets.get(label["assetId"])
        if asset is None or not _metadata_ok(asset["jsonMetadata"], asset_where["metadata"]):
            return False
    return True


_TOKEN = re.compile(r"\s*(\(|\)|AND\b|OR\b|[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.count\s*"
                    r"(?:==|>=|<=|>|<)\s*\d+)")  # fmt: skip
_TERM = re.compile(r"([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)\.count\s*(==|>=|<=|>|<)\s*(\d+)")


def _count(response: Row, job: str, category: str) -> int:
    value = response.get(job) or {}
    found = [c for c in value.get("categories") or [] if c.get("name") == category]
    for annotation in value.get("annotations") or []:
        found += [c for c in annotation.get("categories") or [] if c.get("name") == category]
    return len(found)


def search_matches(query: str, json_response: str | None) -> bool:
    """Evaluate Kili's category search (``JOB.CAT.count > 0 AND (...)``) on a label."""
    tokens: list[str] = []
    pos, text = 0, query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ServerError(
                f"Invalid search {query!r} at {text[pos:]!r}: use JOB.CATEGORY.count OP N "
                "joined by AND / OR, e.g. JOB.A.count > 0 AND JOB.B.count == 0."
            )
        tokens.append(m.group(1).strip())
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    try:
        response = json.loads(json_response or "{}")
    except ValueError:
        response = {}
    ops = {
        "==": lambda a, b: a == b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    }  # fmt: skip
    index = 0

    def expr() -> bool:  # OR of AND-groups: AND binds tighter
        nonlocal index
        value = conjunction()
        while index < len(tokens) and tokens[index] == "OR":
            index += 1
            right = conjunction()
            value = value or right
        return value

    def conjunction() -> bool:
        nonlocal index
        value = term()
        while index < len(tokens) and tokens[index] == "AND":
            index += 1
            right = term()
            value = value and right
        return value

    def term() -> bool:
        nonlocal index
        if index >= len(tokens):
            raise ServerError(f"Invalid search {query!r}: it ends too early.")
        token = tokens[index]
        index += 1
        if token == "(":
            value = expr()
            if index >= len(tokens) or tokens[index] != ")":
                raise ServerError(f"Invalid search {query!r}: a parenthesis is not closed.")
            index += 1
            return value
        m = _TERM.fullmatch(token)
        if m is None:
            raise ServerError(f"Invalid search {query!r} near {token!r}.")
        job, category, op, number = m.groups()
        return bool(ops[op](_count(response, job, category), int(number)))

    result = expr()
    if index != len(tokens):
        raise ServerError(f"Invalid search {query!r} near {tokens[index]!r}.")
    return result
