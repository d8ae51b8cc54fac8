"""Official SDK: labels checked against the interface by the local server (malformed ones
refused with jsonResponseMalformed, nothing written; valid ones of every job type accepted
and parsed), interfaces the platform would refuse, and export_labels(export_type=...).
The labels are tests/data/label_corpus.json, shared with the AsyncKili tests."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

from _common import emit, kili

CORPUS = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "label_corpus.json").read_text()
)
GOOD = CORPUS["valid"][0]
warnings.simplefilter("ignore", DeprecationWarning)  # append_to_labels, export_type="latest"


def refusal(call: Any) -> dict[str, str] | None:
    """None if ``call()`` went through, else the exception's type and message."""
    try:
        call()
    except Exception as exc:  # what the official SDK raises is what the test checks
        return {"type": type(exc).__name__, "message": str(exc)}
    return None


client = kili()
out: dict[str, Any] = {}
project_id = client.create_project(
    title="validated", input_type="IMAGE", json_interface=CORPUS["interface"]
)["id"]
ids = client.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/v{i}.jpg" for i in range(3)],
    external_id_array=["v0", "v1", "v2"],
)["asset_ids"]

out["append_labels"] = {
    case["case"]: refusal(
        lambda case=case: client.append_labels(
            asset_id_array=ids, json_response_array=[GOOD, case["response"], GOOD]
        )
    )
    for case in CORPUS["malformed"]
}
bad = CORPUS["malformed"][1]["response"]  # an unknown category
out["create_predictions"] = refusal(
    lambda: client.create_predictions(
        project_id, external_id_array=["v0"], json_response_array=[bad], model_name="m"
    )
)
out["create_honeypot"] = refusal(lambda: client.create_honeypot(bad, asset_id=ids[0]))
out["append_to_labels"] = refusal(lambda: client.append_to_labels(bad, label_asset_id=ids[0]))
out["count_after_refusals"] = client.count_labels(project_id)

appended = client.append_labels(asset_id_array=ids[:2], json_response_array=CORPUS["valid"])
out["appended"] = len(appended)
parsed = client.labels(project_id, output_format="parsed_label")
jobs = parsed[0].jobs
out["parsed"] = {
    "SINGLE": jobs["SINGLE"].category.name,
    "MULTI": [c.name for c in jobs["MULTI"].categories],
    "TRANSCRIPTION": jobs["TRANSCRIPTION"].text,
    "BBOX": jobs["BBOX"].annotations[0].category.name,
    "NER": jobs["NER"].annotations[0].content,
}

invalid = {"jobs": {"J": {"mlTask": "OBJECT_DETECTION", "content": {"input": "radio"}}}}
out["create_project_refused"] = refusal(
    lambda: client.create_project(title="bad", input_type="IMAGE", json_interface=invalid)
)
out["update_refused"] = refusal(
    lambda: client.update_properties_in_project(project_id, json_interface=invalid)
)

client.append_labels(asset_id_array=ids[:1], json_response_array=[CORPUS["valid"][1]])
exported: dict[str, Any] = {}
for export_type in ("latest", "normal"):
    target = Path.cwd() / f"{export_type}.zip"
    client.export_labels(
        project_id, str(target), "kili", with_assets=False, single_file=True,
        export_type=export_type,
    )  # fmt: skip
    with zipfile.ZipFile(target) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.json"))
        assets = json.loads(archive.read(name))
    exported[export_type] = {
        a["externalId"]: (
            [lb["jsonResponse"] == {} for lb in a["labels"]]
            if "labels" in a
            else a["latestLabel"]["jsonResponse"] == {}
        )
        for a in assets
    }
out["exported"] = exported
emit(out)
