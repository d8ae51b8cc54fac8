"""Official SDK: append_labels_from_geojson_files and append_labels_from_shapefiles against
the local server, with the files and calls the pytest side wrote in $AIOKILI_GEO_DIR."""

from __future__ import annotations

import json
import os
from pathlib import Path

from _common import emit, kili

folder = Path(os.environ["AIOKILI_GEO_DIR"])
plan = json.loads((folder / "calls.json").read_text())
client = kili()
out: dict[str, object] = {}
project_id = client.create_project(
    title="geo", input_type="IMAGE", json_interface=plan["interface"]
)["id"]
names = [*plan["calls"], "refused"]
client.append_many_to_dataset(
    project_id,
    content_array=[f"https://maps.example/{name}.png" for name in names],
    external_id_array=names,
)
for name, (method, kwargs) in plan["calls"].items():
    getattr(client, method)(project_id=project_id, asset_external_id=name, **kwargs)

try:  # a job the project does not have: refused before anything is written
    client.append_labels_from_geojson_files(
        project_id=project_id,
        asset_external_id="refused",
        geojson_file_paths=plan["calls"]["auto"][1]["geojson_file_paths"],
        job_names=["NOPE"],
        category_names=["TREE"],
    )
except ValueError as exc:
    out["refused"] = str(exc)
labels = client.labels(project_id, fields=["jsonResponse", "labelOf.externalId"])
out["labels"] = {lb["labelOf"]["externalId"]: lb["jsonResponse"] for lb in labels}
emit(out)
