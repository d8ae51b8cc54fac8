"""Official SDK round trip: project, assets with metadata, labels, filters, statuses, update, delete."""

from __future__ import annotations

from _common import INTERFACE, answer, emit, kili

client = kili()
out: dict[str, object] = {}
project = client.create_project(title="official", input_type="IMAGE", json_interface=INTERFACE)
project_id = project["id"]

imported = client.append_many_to_dataset(
    project_id,
    content_array=["https://img.example/1.jpg", "https://img.example/2.jpg"],
    external_id_array=["one", "two"],
    json_metadata_array=[{"split": "train"}, {"split": "test"}],
)
out["imported_asset_ids"] = imported["asset_ids"]
out["assets"] = [
    {k: a.get(k) for k in ("externalId", "content", "jsonMetadata")}
    for a in client.assets(project_id)
]
out["count_assets"] = client.count_assets(project_id)
out["count_assets_external_id_in_tw"] = client.count_assets(project_id, external_id_in=["tw"])

client.append_labels(
    asset_id_array=imported["asset_ids"], json_response_array=[answer("A"), answer("B")]
)
client.append_labels(
    asset_external_id_array=["one"],
    project_id=project_id,
    json_response_array=[answer("B")],
    label_type="REVIEW",
)
out["labels"] = [
    {"jsonResponse": lb["jsonResponse"], "authorEmail": lb["author"]["email"]}
    for lb in client.labels(project_id)
]
out["count_labels"] = client.count_labels(project_id)
out["count_labels_review"] = client.count_labels(project_id, type_in=["REVIEW"])
out["statuses"] = {
    a["externalId"]: a["status"] for a in client.assets(project_id, fields=["externalId", "status"])
}

out["updated_title"] = client.update_properties_in_project(project_id, title="renamed")["title"]
out["project_id"] = project_id
out["deleted"] = client.delete_project(project_id)
out["count_projects_after_delete"] = client.count_projects(project_id=project_id)
emit(out)
