"""Official SDK: workflow steps (V2) against the local server: the project's steps, step-name
and step-status filters on assets and labels, currentStep, labels made at a named step."""

from __future__ import annotations

import warnings

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
client = kili()
out: dict[str, object] = {}
project_id = client.create_project(title="steps", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
[project] = client.projects(
    project_id=project_id, fields=["workflowVersion", "steps.id", "steps.name", "steps.type"]
)
out["workflow_version"] = project["workflowVersion"]
out["steps"] = project["steps"]
ids = client.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/{i}.jpg" for i in range(7)],
    external_id_array=[f"s{i}" for i in range(7)],
)["asset_ids"]

# 0 and 5 to do, 1 labelled, 2 to review, 3 reviewed, 4 sent back, 6 labelled at Review
client.append_labels(asset_id_array=ids[1:5], json_response_array=[answer("A")] * 4)
client.add_to_review(asset_ids=ids[2:4])
client.append_labels(
    asset_id_array=[ids[3]], json_response_array=[answer("B")], label_type="REVIEW"
)
client.send_back_to_queue(asset_ids=[ids[4]])
client.append_labels(
    asset_id_array=[ids[6]], json_response_array=[answer("B")], step_name="Review",
    project_id=project_id,
)  # fmt: skip

out["current_steps"] = {
    a["externalId"]: [a["currentStep"]["name"], a["currentStep"]["status"]]
    for a in client.assets(
        project_id, fields=["externalId", "currentStep.name", "currentStep.status"]
    )
}
out["default_fields"] = sorted(client.assets(project_id, first=1)[0])

FILTERS: dict[str, dict[str, object]] = {
    "name_review": {"step_name_in": ["Review"]},
    "name_not_review": {"step_name_not_in": ["Review"]},
    "status_todo": {"step_status_in": ["TO_DO"]},
    "status_not_todo": {"step_status_not_in": ["TO_DO"]},
    "status_rework": {"step_status_in": ["REWORK"]},
    "name_and_status": {"step_name_and_status_in": [("Review", "DONE"), ("Labeling", "TO_DO")]},
    "labeling_done": {"step_name_in": ["Labeling"], "step_status_in": ["DONE"]},
}
lists: dict[str, list[str]] = {}
counts: dict[str, int] = {}
for name, filters in FILTERS.items():
    lists[name] = [a["externalId"] for a in client.assets(project_id, fields=["externalId"],
                                                          **filters)]  # fmt: skip
    counts[name] = client.count_assets(project_id, **filters)
out["lists"], out["counts"] = lists, counts

out["labels_in_review"] = sorted(
    lb["labelOf"]["externalId"]
    for lb in client.labels(
        project_id, fields=["labelOf.externalId"], asset_step_name_in=["Review"]
    )
)
out["count_labels_in_review"] = client.count_labels(project_id, asset_step_name_in=["Review"])
out["count_labels_rework"] = client.count_labels(project_id, asset_step_status_in=["REWORK"])
try:
    client.assets(project_id, step_name_in=["Revue"])
    out["unknown_step"] = None
except ValueError as error:
    out["unknown_step"] = str(error)
emit(out)
