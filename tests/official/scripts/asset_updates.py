"""Official SDK asset mutations: properties, external ids, review, queue, deletion."""

from __future__ import annotations

import warnings

from _common import INTERFACE, answer, emit, kili

client = kili()
out: dict[str, object] = {}
project_id = client.create_project(title="assetm", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
ids = client.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/{n}.jpg" for n in range(4)],
    external_id_array=["a", "b", "c", "d"],
    json_metadata_array=[{"n": n} for n in range(4)],
)["asset_ids"]
a, b, c, d = ids
email = client.get_current_user(fields=["email"])["email"]
out["email"] = email

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    out["updated"] = client.update_properties_in_assets(
        asset_ids=[a, b],
        json_metadatas=[{"k": "v"}, '{"k": "w"}'],
        consensus_marks=[0.4, 0.6],
        honeypot_marks=[0.1, 0.9],
        is_honeypot_array=[False, True],
        priorities=[2, 0],
        resolution_array=[{"width": 640, "height": 480}, {"width": 10, "height": 20}],
        to_be_labeled_by_array=[[email], None],
    )
try:  # a project with workflow steps: update_asset_consensus instead
    client.update_properties_in_assets(asset_ids=[a], is_used_for_consensus_array=[True])
except Exception as exc:  # its type and message are the result
    out["consensus_refused"] = [type(exc).__name__, str(exc)]
out["renamed"] = client.change_asset_external_ids(new_external_ids=["a2"], asset_ids=[a])
out["renamed_by_external_id"] = client.change_asset_external_ids(
    new_external_ids=["b2"], external_ids=["b"], project_id=project_id
)
client.append_labels(asset_id_array=[a, b, c], json_response_array=[answer("A")] * 3)
out["count_labels_before"] = client.count_labels(project_id)
out["review"] = client.add_to_review(asset_ids=[a, d])
out["back"] = client.send_back_to_queue(external_ids=["b2", "d"], project_id=project_id)
out["deleted"] = client.delete_many_from_dataset(asset_ids=[c])
out["count_labels_after"] = client.count_labels(project_id)
out["count_assets_after"] = client.count_assets(project_id)
out["ongoing"] = client.count_assets(project_id, status_in=["ONGOING"])
out["assets"] = {
    x["id"]: x
    for x in client.assets(
        project_id,
        fields=[
            "id", "externalId", "status", "jsonMetadata", "consensusMark", "honeypotMark",
            "isHoneypot", "priority", "resolution.width", "labels.isSentBackToQueue",
        ],
    )
}  # fmt: skip
out["ids"] = ids
emit(out)
