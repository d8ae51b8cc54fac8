"""The official SDK (26.2.4) subscribes with ``label_created_or_updated`` to the local server
(legacy ``graphql-ws`` protocol) and receives the labels it appends."""

from __future__ import annotations

import json
from pathlib import Path

from official_support import answer, official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, shared


def test_official_sdk_label_created_or_updated(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    out = run_official(official_python, "subscriptions_methods.py", local_server, tmp_path)
    assert out["protocol"] == "graphql-ws"
    received = out["received"]
    # each appended label once, in order, in the frame shape the SDK hands its callback
    labels = [frame["message"]["payload"]["data"]["data"] for frame in received]
    assert [label["id"] for label in labels] == out["appended"]
    assert {frame["message"]["type"] for frame in received} == {"data"}
    assert len({frame["id"] for frame in received}) == 1  # one subscription
    assert [label["labelOf"]["id"] for label in labels] == out["asset_ids"]
    assert [json.loads(label["jsonResponse"]) for label in labels] == [
        answer("A"), answer("B"), answer("A")
    ]  # fmt: skip
    assert {label["labelType"] for label in labels} == {"DEFAULT"}
    assert {label["author"]["email"] for label in labels} == {"admin@aiokili.local"}
