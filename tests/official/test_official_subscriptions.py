"""The official SDK (26.2.4) subscribes with ``label_created_or_updated`` to the local server
(legacy ``graphql-ws`` protocol) and receives the labels it appends."""

from __future__ import annotations

import json
from typing import Any

from official_support import answer, official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("subscriptions_methods.py")


def labels(out: Any) -> list[dict[str, Any]]:
    """The labels of the frames the SDK handed its callback."""
    return [frame["message"]["payload"]["data"]["data"] for frame in out["received"]]


def test_one_subscription_over_graphql_ws(out: Any) -> None:
    assert out["protocol"] == "graphql-ws"
    received = out["received"]
    assert {frame["message"]["type"] for frame in received} == {"data"}
    assert len({frame["id"] for frame in received}) == 1  # one subscription


def test_each_appended_label_arrives_once_in_order(out: Any) -> None:
    """Only those appended after subscribing: not those appended just before."""
    assert [label["id"] for label in labels(out)] == out["appended"]
    assert len(out["before"]) == 2 and not set(out["before"]) & {lb["id"] for lb in labels(out)}
    assert [label["labelOf"]["id"] for label in labels(out)] == out["asset_ids"]


def test_the_labels_carry_what_was_written(out: Any) -> None:
    assert [json.loads(label["jsonResponse"]) for label in labels(out)] == [
        answer("A"), answer("B"), answer("A")
    ]  # fmt: skip
    assert {label["labelType"] for label in labels(out)} == {"DEFAULT"}
    assert {label["author"]["email"] for label in labels(out)} == {"admin@aiokili.local"}
