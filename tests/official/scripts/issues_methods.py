"""Official SDK: issues, questions, users, organizations, project tags/filters/new parameters."""

from __future__ import annotations

import warnings

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
client = kili()
out: dict[str, object] = {}

# ---- issues
project_id = client.create_project(title="issues", input_type="IMAGE", json_interface=INTERFACE)[
    "id"
]
asset_ids = client.append_many_to_dataset(
    project_id,
    content_array=[f"https://img.example/{i}.jpg" for i in range(3)],
    external_id_array=["a0", "a1", "a2"],
)["asset_ids"]
label_ids = [
    lb["id"]
    for lb in client.append_labels(asset_id_array=asset_ids, json_response_array=[answer("A")] * 3)
]
created = client.create_issues(
    project_id=project_id, label_id_array=label_ids[:2], text_array=["wrong class", None]
)
out["created"] = created
appended = client.append_to_issues(label_id=label_ids[2], project_id=project_id, text="look")
out["appended"] = appended
question = client.append_to_issues(
    label_id=label_ids[0], project_id=project_id, text="which?", type_="QUESTION"
)
out["question"] = question
client.update_issue_status(created[0]["id"], "SOLVED")
out["issues"] = client.issues(
    project_id, fields=["id", "type", "status", "assetId", "labelId", "issueNumber"]
)
out["issues_default_fields"] = client.issues(project_id)
out["count_issues"] = client.count_issues(project_id)
out["count_issues_open"] = client.count_issues(project_id, status="OPEN")
out["count_issues_question"] = client.count_issues(project_id, issue_type="QUESTION")
out["count_issues_asset0"] = client.count_issues(project_id, asset_id=asset_ids[0])
out["count_issues_asset_in"] = client.count_issues(project_id, asset_id_in=asset_ids[1:])
out["issues_asset_in"] = [
    i["id"] for i in client.issues(project_id, asset_id_in=asset_ids[1:], as_generator=True)
]
out["issues_solved"] = [i["id"] for i in client.issues(project_id, status="SOLVED")]
out["asset_ids"] = asset_ids
out["label_ids"] = label_ids

# ---- users and organizations
me = client.get_current_user(fields=["id", "email", "organizationId"])
out["me"] = me
out["users"] = client.users()
out["users_by_email"] = client.users(email=me["email"], fields=["id"])
out["users_by_org"] = client.users(organization_id=me["organizationId"], fields=["id"])
out["count_users"] = client.count_users()
out["count_users_other_org"] = client.count_users(organization_id="other-org")
out["organizations"] = client.organizations()
out["count_organizations"] = client.count_organizations()
out["count_organizations_email"] = client.count_organizations(email=me["email"])

# ---- project tags, copies, filters, new parameters
red = client.create_tag("official-red")["id"]
client.create_tag("official-blue", color="#0000ff")
tagged = client.create_project(
    title="tagged", input_type="TEXT", json_interface=INTERFACE, tags=["official-red"]
)["id"]
client.update_properties_in_project(tagged, instructions="https://docs.example/x")
copy = client.create_project(title="copy", project_id=tagged)["id"]
out["copy"] = client.projects(
    project_id=copy, fields=["title", "inputType", "jsonInterface", "instructions"]
)[0]
out["tags_of_copy"] = [t["label"] for t in client.tags(project_id=copy)]
out["tagged_ids"] = [tagged, copy]
out["projects_tags_in"] = [
    p["id"] for p in client.projects(tags_in=["official-red"], fields=["id"])
]
out["count_projects_tags_in"] = client.count_projects(tags_in=["official-red"])
out["count_projects_blue"] = client.count_projects(tags_in=["official-blue"])
out["count_projects_org"] = client.count_projects(organization_id=me["organizationId"])
out["count_projects_all"] = client.count_projects()
out["count_projects_other_org"] = client.count_projects(organization_id="other-org")
out["count_projects_starred"] = client.count_projects(starred=True)
out["count_projects_unstarred"] = client.count_projects(starred=False)
out["count_projects_deleted"] = client.count_projects(deleted=True)
out["updated"] = client.update_properties_in_project(
    tagged,
    metadata_types={"score": "number"},
    seconds_to_label_before_auto_assign=10,
    input_type="IMAGE",
)
out["after_update"] = client.projects(
    project_id=tagged, fields=["metadataProperties", "shouldAutoAssign", "inputType"]
)[0]
out["red"] = red
emit(out)
