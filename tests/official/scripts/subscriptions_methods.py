"""Official SDK: ``label_created_or_updated(project_id, callback)`` receives the labels
appended afterwards, over the legacy ``graphql-ws`` protocol, from the local server."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from _common import INTERFACE, answer, emit, kili

client = kili()
project_id = client.create_project(title="subs", input_type="TEXT", json_interface=INTERFACE)["id"]
asset_ids = client.append_many_to_dataset(
    project_id,
    content_array=["one", "two", "three", "four", "five"],
    external_id_array=["a", "b", "c", "d", "e"],
)["asset_ids"]
earlier = asset_ids[3:]  # labelled just before subscribing: not delivered
before = client.append_labels(asset_id_array=earlier, json_response_array=[answer("B")] * 2)
asset_ids = asset_ids[:3]

received: list[dict[str, Any]] = []
lock = threading.Lock()


def callback(subscription_id: str, message: dict[str, Any]) -> None:
    with lock:
        received.append({"id": subscription_id, "message": message})


websocket = client.label_created_or_updated(project_id, callback)
time.sleep(0.5)  # the subscription is registered on the server
appended = client.append_labels(
    asset_id_array=asset_ids, json_response_array=[answer("A"), answer("B"), answer("A")]
)
deadline = time.monotonic() + 60  # the SDK's reader sleeps 1 s after each frame
while time.monotonic() < deadline:
    with lock:
        if len(received) >= len(appended):
            break
    time.sleep(0.2)
time.sleep(1.5)  # nothing more arrives (no duplicates)
with lock:
    got = list(received)
websocket._subscription_running = False  # the SDK's own stop flag, then close
websocket.close()
emit({
    "before": [label["id"] for label in before],
    "appended": [label["id"] for label in appended],
    "asset_ids": asset_ids,
    "received": got,
    "protocol": websocket._conn.getsubprotocol(),
})  # fmt: skip
os._exit(0)  # the SDK's reader thread would try to reconnect after the close
