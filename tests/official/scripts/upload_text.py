"""Official SDK: raw text goes through the signed-URL upload; prints the asset's content URL."""

from __future__ import annotations

from _common import INTERFACE, emit, kili

client = kili()
project = client.create_project(title="text", input_type="TEXT", json_interface=INTERFACE)
client.append_many_to_dataset(project["id"], content_array=["hello raw text"])
emit(client.assets(project["id"], fields=["id", "content"]))
