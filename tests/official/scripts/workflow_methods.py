"""Official SDK: every workflow step method, then a custom workflow (two review steps with
their assignees) through which assets move, labelled and reviewed by the members assigned
(their keys come from the pytest side: ``<NAME>_KEY`` / ``<NAME>_EMAIL``) and refused to
the others."""

from __future__ import annotations

import os
import warnings
from typing import Any

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
admin = kili()
out: dict[str, Any] = {}
NAMES = ("LABELER", "OTHER_LABELER", "REVIEWER_1", "REVIEWER_2")
emails = {name: os.environ[f"{name}_EMAIL"] for name in NAMES}
users = {name: kili(api_key=os.environ[f"{name}_KEY"]) for name in NAMES}


def error(call: Any) -> dict[str, str]:
    """What a refused call raises: its class and message."""
    try:
        call()
    except Exception as exc:  # the official SDK's own error classes
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": "none", "message": ""}


def warned(call: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if w.category is UserWarning]


def new_project(title: str) -> str:
    return str(admin.create_project(title=title, input_type="IMAGE",
                                    json_interface=INTERFACE)["id"])  # fmt: skip


def places(project_id: str) -> dict[str, list[str]]:
    found = admin.assets(project_id, fields=["externalId", "currentStep.name",
                                             "currentStep.status", "status"])  # fmt: skip
    return {
        a["externalId"]: [a["status"], a["currentStep"]["name"], a["currentStep"]["status"]]
        for a in found
    }


# ---------------------------------------------------------------- the methods one by one
p = new_project("workflow methods")
for name in NAMES:
    admin.append_to_roles(p, emails[name], role="LABELER" if "LABELER" in name else "REVIEWER")
out["get_steps"] = admin.get_steps(p)
out["get_steps_fields"] = admin.get_steps(p, fields=["steps.name", "steps.stepCoverage"])
out["add_review_step"] = admin.add_review_step(
    p, "QA", [emails["REVIEWER_1"]], step_coverage=40, send_back_to_step="Review"
)
out["add_review_step_labeler"], out["add_review_step_warnings"] = warned(
    lambda: admin.add_review_step(p, "QA 2", [emails["LABELER"], emails["REVIEWER_2"]])
)
out["add_reviewers"], out["add_reviewers_warnings"] = warned(
    lambda: admin.add_reviewers_to_step(p, "QA", emails=[emails["REVIEWER_2"], emails["LABELER"]])
)
out["remove_reviewers"] = admin.remove_reviewers_from_step(p, "QA", emails=[emails["REVIEWER_1"]])
out["remove_last_reviewer"] = error(
    lambda: admin.remove_reviewers_from_step(p, "QA", emails=[emails["REVIEWER_2"]])
)
out["add_labelers"] = error(lambda: admin.add_labelers_to_step(p, "Labeling",
                                                                emails=[emails["LABELER"]]))  # fmt: skip
out["remove_labelers"] = error(
    lambda: admin.remove_labelers_from_step(p, "Labeling", emails=[emails["LABELER"]])
)
out["rename_step"] = admin.rename_step(p, step_name="QA 2", new_name="Final")
out["labeling_properties"] = admin.update_labeling_step_properties(
    p, "Labeling", consensus_coverage=50, number_of_expected_labels_for_consensus=2
)
qa_id = next(s["id"] for s in admin.get_steps(p) if s["name"] == "QA")
out["review_properties"] = admin.update_review_step_properties(
    p, step_id=qa_id, step_coverage=70, assignees=[emails["REVIEWER_1"]]
)
out["steps_after_properties"] = admin.get_steps(p, fields=[
    "steps.name", "steps.stepCoverage", "steps.consensusCoverage",
    "steps.numberOfExpectedLabelsForConsensus", "steps.sendBackStepId", "steps.assignees.email",
])  # fmt: skip
out["update_project_workflow"] = admin.update_project_workflow(
    p,
    enforce_step_separation=True,
    create_steps=[{"name": "Extra", "type": "REVIEW", "assignees": [], "step_coverage": 10}],
    update_steps=[{"name": "Final", "step_coverage": 20}],
    delete_steps=["QA"],
)
out["enforce"] = admin.projects(project_id=p, fields=["enforceStepSeparation"])[0]
out["delete_last_step"] = admin.delete_last_step(p)
out["steps_after_edits"] = [(s["name"], s["type"]) for s in admin.get_steps(p)]
out["refused_delete_labeling"] = error(lambda: admin.update_project_workflow(
    p, delete_steps=["Labeling"]))  # fmt: skip
destination = new_project("workflow copy")
admin.append_to_roles(destination, emails["REVIEWER_2"], role="REVIEWER")
admin.append_to_roles(destination, emails["OTHER_LABELER"], role="LABELER")
out["copy"] = admin.copy_workflow_from_project(destination, p)
out["copied_steps"] = admin.get_steps(destination, fields=[
    "steps.name", "steps.type", "steps.stepCoverage", "steps.assignees.email"
])  # fmt: skip
out["copied_enforce"] = admin.projects(project_id=destination,
                                       fields=["enforceStepSeparation"])[0]  # fmt: skip
out["copy_to_itself"] = error(lambda: admin.copy_workflow_from_project(p, p))

# ---------------------------------------------------------------- a custom workflow, end to end
flow = new_project("custom workflow")
for name in NAMES:
    admin.append_to_roles(flow, emails[name], role="LABELER" if "LABELER" in name else "REVIEWER")
admin.rename_step(flow, step_name="Review", new_name="Review 1")
admin.update_review_step_properties(flow, "Review 1", assignees=[emails["REVIEWER_1"]],
                                    step_coverage=100)  # fmt: skip
admin.add_review_step(flow, "Review 2", [emails["REVIEWER_2"]], send_back_to_step="Review 1")
labeling_id = admin.get_steps(flow)[0]["id"]
labeler_id = admin.project_users(flow, email=emails["LABELER"], fields=["user.id"])[0]["user"]["id"]
admin.update_project_workflow(flow, update_steps=[{"id": labeling_id, "assignees": [labeler_id]}])
out["flow_steps"] = [(s["name"], [a["email"] for a in s["assignees"]])
                     for s in admin.get_steps(flow)]  # fmt: skip
ids = admin.append_many_to_dataset(
    flow, content_array=[f"https://img.example/{i}.jpg" for i in range(2)],
    external_id_array=["a0", "a1"],
)["asset_ids"]  # fmt: skip
moves: list[Any] = []
users["LABELER"].append_labels(asset_id_array=[ids[0]], json_response_array=[answer("A")])
moves.append(["labelled", places(flow)["a0"]])
out["refused_unassigned_labeler"] = error(lambda: users["OTHER_LABELER"].append_labels(
    asset_id_array=[ids[1]], json_response_array=[answer("A")]))  # fmt: skip
out["refused_labels"] = admin.count_labels(flow, asset_id=ids[1])
out["refused_review_2_early"] = error(lambda: users["REVIEWER_2"].append_labels(
    asset_id_array=[ids[0]], json_response_array=[answer("B")], label_type="REVIEW"))  # fmt: skip
users["REVIEWER_1"].append_labels(asset_id_array=[ids[0]], json_response_array=[answer("B")],
                                  label_type="REVIEW")  # fmt: skip
moves.append(["reviewed at Review 1", places(flow)["a0"]])
users["REVIEWER_2"].append_labels(asset_id_array=[ids[0]], json_response_array=[answer("B")],
                                  label_type="REVIEW", step_name="Review 2", project_id=flow)  # fmt: skip
moves.append(["reviewed at Review 2", places(flow)["a0"]])
users["REVIEWER_2"].send_back_to_queue(asset_ids=[ids[0]])
moves.append(["sent back from Review 2", places(flow)["a0"]])
users["REVIEWER_1"].send_back_to_queue(asset_ids=[ids[0]])
moves.append(["sent back from Review 1", places(flow)["a0"]])
users["LABELER"].append_labels(asset_id_array=[ids[0]], json_response_array=[answer("A")])
moves.append(["labelled again", places(flow)["a0"]])
out["moves"] = moves
out["in_review_1"] = [a["externalId"] for a in admin.assets(flow, fields=["externalId"],
                                                            step_name_in=["Review 1"])]  # fmt: skip
out["count_labeling_todo"] = admin.count_assets(
    flow, step_name_and_status_in=[("Labeling", "TO_DO")]
)
emit(out)
