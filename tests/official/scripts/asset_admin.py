"""Official SDK asset administration: assignees and the lock they put on labelling,
priorities (a labeler's queue), metadata merges, skips, consensus use. The labelers' keys
come from the pytest side (``ANN_KEY``, ``BOB_KEY``)."""

from __future__ import annotations

import os
import warnings
from typing import Any

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
admin = kili()
ann, bob = kili(api_key=os.environ["ANN_KEY"]), kili(api_key=os.environ["BOB_KEY"])
ann_email, bob_email = os.environ["ANN_EMAIL"], os.environ["BOB_EMAIL"]
out: dict[str, Any] = {}


def error(call: Any) -> list[str]:
    """What a refused call raises: its class and message."""
    try:
        call()
    except Exception as exc:  # the official SDK's own error classes
        return [type(exc).__name__, str(exc)]
    return ["none", ""]


project_id = admin.create_project(title="admin", input_type="IMAGE", json_interface=INTERFACE)["id"]
ids = admin.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/{n}.jpg" for n in range(5)],
    external_id_array=["a", "b", "c", "d", "e"],
    json_metadata_array=[{"n": n, "text": "kept"} for n in range(5)],
)["asset_ids"]
a, b, c, d, e = ids
for email in (ann_email, bob_email):
    admin.append_to_roles(project_id, email, role="LABELER")
users = {u["email"]: u["id"] for u in admin.users(fields=["id", "email"])}
ann_id, bob_id = users[ann_email], users[bob_email]
out["ids"] = ids

# ---- assignees, and the lock they put on labelling
out["assigned"] = admin.assign_assets_to_labelers(
    asset_ids=[a, b, c], to_be_labeled_by_array=[[ann_id], [ann_id, bob_id], [ann_id]]
)
out["assigned_to_bob"] = [x["id"] for x in admin.assets(project_id, assignee_in=[bob_email])]
out["bob_refused"] = error(
    lambda: bob.append_labels(asset_id_array=[a], json_response_array=[answer("A")])
)
out["admin_refused"] = error(
    lambda: admin.append_labels(asset_id_array=[a], json_response_array=[answer("A")])
)
out["ann_labels"] = ann.append_labels(asset_id_array=[a], json_response_array=[answer("A")])
ann.append_labels(asset_id_array=[b], json_response_array=[answer("B")], label_type="AUTOSAVE")
out["reassigned"] = admin.assign_assets_to_labelers(
    asset_ids=[b, c], to_be_labeled_by_array=[[bob_id], []]
)
out["assigned_to_ann"] = [x["id"] for x in admin.assets(project_id, assignee_in=[ann_email])]
out["length_refused"] = error(
    lambda: admin.assign_assets_to_labelers(asset_ids=[a, b], to_be_labeled_by_array=[[ann_id]])
)

# ---- priorities: a labeler's queue
out["priority"] = admin.set_assets_priority(priority=5, asset_ids=[a, d])
admin.set_assets_priority(priority=2, external_ids=["e"], project_id=project_id)
out["queue"] = [x["id"] for x in ann.assets(project_id, fields=["id"])]
out["admin_listing"] = [x["id"] for x in admin.assets(project_id, fields=["id", "priority"])]
out["priorities"] = [x["priority"] for x in admin.assets(project_id, fields=["priority"])]

# ---- metadata: merged, replaced (the keys Kili reads kept)
out["added"] = admin.add_metadata(json_metadata=[{"k": 1}], project_id=project_id, asset_ids=[d])
out["set"] = admin.set_metadata(
    json_metadata=[{"only": True}], project_id=project_id, external_ids=["e"]
)
out["metadata"] = [x["jsonMetadata"] for x in admin.assets(project_id, fields=["jsonMetadata"])]

# ---- skips
out["skipped"] = admin.skip_or_unskip(action="skip", asset_id=d, project_id=project_id, reason="x")
out["skipped_listed"] = [x["id"] for x in admin.assets(project_id, skipped=True)]
out["skipped_step"] = admin.assets(project_id, asset_id_in=[d], fields=["currentStep.status"])
out["no_reason"] = error(lambda: admin.skip_or_unskip("skip", e, project_id))
out["unskipped"] = admin.skip_or_unskip(action="unskip", asset_id=d, project_id=project_id)
out["unskipped_asset"] = admin.assets(
    project_id, asset_id_in=[d], fields=["skipped", "status", "currentStep.status"]
)

# ---- consensus use
out["consensus_disabled"] = error(
    lambda: admin.update_asset_consensus(project_id, True, asset_id=d)
)
admin.update_properties_in_project(project_id, consensus_tot_coverage=50, min_consensus_size=2)
out["consensus_on"] = admin.update_asset_consensus(project_id, True, asset_id=d)
out["consensus_off"] = admin.update_asset_consensus(project_id, False, external_id="e")
out["consensus_read"] = [
    x["isUsedForConsensus"] for x in admin.assets(project_id, fields=["isUsedForConsensus"])
]
out["consensus_labeler"] = error(lambda: ann.update_asset_consensus(project_id, True, asset_id=d))
out["consensus_done"] = error(lambda: admin.update_asset_consensus(project_id, True, asset_id=a))
out["consensus_skip"] = error(lambda: ann.skip_or_unskip("skip", d, project_id, reason="hard"))
for client, category in ((ann, "A"), (bob, "B")):
    client.append_labels(asset_id_array=[d, e], json_response_array=[answer(category)] * 2)
out["marks"] = {x["id"]: x["consensusMark"] for x in admin.assets(project_id, asset_id_in=[d, e],
                                                              fields=["id", "consensusMark"])}  # fmt: skip
emit(out)
