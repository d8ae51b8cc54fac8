"""Official SDK: every label method of 26.2.4 against the local server, results as JSON."""

from __future__ import annotations

import warnings

from _common import INTERFACE, answer, emit, kili

client = kili()
out: dict[str, object] = {}
project_id = client.create_project(title="labels", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
ids = client.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/{i}.jpg" for i in range(3)],
    external_id_array=["a", "b", "c"],
)["asset_ids"]
out["asset_ids"] = ids
out["project_id"] = project_id

appended = client.append_labels(
    asset_id_array=ids, json_response_array=[answer("A"), answer("B"), answer("A")]
)
out["appended"] = [lb["id"] for lb in appended]
out["create_predictions"] = client.create_predictions(
    project_id,
    external_id_array=["a", "b"],
    json_response_array=[answer("B"), answer("B")],
    model_name="m1",
)
client.append_labels(
    asset_id_array=ids[:1], json_response_array=[answer("A")], label_type="INFERENCE",
    model_name="m2",
)  # fmt: skip
predictions = client.predictions(project_id)
out["predictions"] = [
    {k: p.get(k) for k in ("id", "labelType", "modelName", "jsonResponse")} for p in predictions
]
out["inferences"] = [
    {k: p.get(k) for k in ("labelType", "modelName")} for p in client.inferences(project_id)
]
out["honeypot"] = client.create_honeypot(answer("A"), asset_external_id="c", project_id=project_id)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out["append_to_labels"] = client.append_to_labels(
        answer("B"), label_asset_external_id="b", project_id=project_id
    )
out["append_to_labels_warned"] = any("deprecated" in str(w.message) for w in caught)

labels = client.labels(
    project_id, fields=["id", "labelType", "jsonResponse", "modelName", "honeypotMark", "assetId"]
)
out["labels"] = labels
out["count_labels"] = client.count_labels(project_id)
frame = client.export_labels_as_df(project_id)
out["as_df"] = {
    "columns": sorted(frame.columns),
    "types": sorted(frame["labelType"]),
    "external_ids": sorted(set(frame["asset_externalId"])),
    "author_keys": sorted(frame["author"][0]),
}
out["count_by_type"] = {
    t: client.count_labels(project_id, type_in=[t])
    for t in ("DEFAULT", "REVIEW", "PREDICTION", "INFERENCE")
}
out["count_honeypot_gte"] = client.count_labels(project_id, honeypot_mark_gte=0.5)
out["count_author_in"] = client.count_labels(project_id, author_in=["Ada Admin"])
out["count_search"] = client.count_labels(project_id, category_search="JOB.B.count > 0")
out["count_strictly_in"] = client.count_labels(project_id, asset_external_id_strictly_in=["a"])
out["count_status_in"] = client.count_labels(project_id, asset_status_in=["LABELED"])
out["count_created_at"] = client.count_labels(project_id, created_at_gte="2000-01-01")
out["predictions_asset_id"] = len(client.predictions(project_id, asset_id=ids[0]))
out["count_id_contains"] = client.count_labels(project_id, id_contains=out["appended"][:2])
out["generator"] = len(list(client.labels(project_id, as_generator=True, first=3)))
out["parsed"] = [
    lb.jobs["JOB"].category.name
    for lb in client.labels(project_id, output_format="parsed_label", type_in=["DEFAULT"])
]
out["deleted"] = client.delete_labels([p["id"] for p in predictions])
out["predictions_after"] = len(client.predictions(project_id))
try:
    client.delete_labels([out["appended"][0]])
    out["delete_default"] = "deleted"
except Exception as exc:  # the message is what the test checks
    out["delete_default"] = str(exc)
out["count_after"] = client.count_labels(project_id)
emit(out)
