"""Official SDK: a large image (wider than 10000 px, measured by the SDK's ``image`` extra)
and a small TIFF imported into an IMAGE project through the asynchronous path, then listed
and downloaded (``download_media``). The images are in $AIOKILI_IMAGES_DIR."""

from __future__ import annotations

import os
from pathlib import Path

from _common import emit, kili

folder = Path(os.environ["AIOKILI_IMAGES_DIR"])
client = kili()
out: dict[str, object] = {}
project_id = client.create_project(title="large", input_type="IMAGE", json_interface={})["id"]
result = client.append_many_to_dataset(
    project_id,
    content_array=[str(folder / "strip.png"), str(folder / "small.tif")],
    external_id_array=["strip", "small"],
)
out["asset_ids"] = result["asset_ids"]  # [] for the asynchronous path
fields = ["externalId", "content", "jsonContent"]
out["assets"] = {a["externalId"]: a for a in client.assets(project_id, fields=fields)}
media = folder / "media"
downloaded = client.assets(
    project_id, fields=fields, download_media=True, local_media_dir=str(media)
)
out["downloaded"] = {a["externalId"]: a for a in downloaded}
emit(out)
