"""Official SDK: tags (created, attached, renamed, removed), project copies with and without
labels, archiving, project versions, anonymization."""

from __future__ import annotations

import uuid
import warnings

from _common import INTERFACE, answer, emit, kili

warnings.simplefilter("ignore", DeprecationWarning)
client = kili()
out: dict[str, object] = {}
suffix = uuid.uuid4().hex[:8]  # the session's server is shared: labels of our own
green, gold = f"green-{suffix}", f"gold-{suffix}"

# ---- tags
out["created"] = client.create_tag(green, color="#00ff00")
out["created_default"] = client.create_tag(gold)
project_id = client.create_project(
    title=f"tagged {suffix}", input_type="IMAGE", json_interface=INTERFACE
)["id"]
out["project_id"] = project_id
out["tag_project"] = client.tag_project(project_id, tags=[green, gold])
out["tags_of_project"] = client.tags(project_id=project_id)
out["tags_of_org"] = [t for t in client.tags() if t["label"] in (green, gold)]
out["update_tag"] = client.update_tag(green, f"emerald-{suffix}")
out["tags_after_rename"] = sorted(t["label"] for t in client.tags(project_id=project_id))
out["projects_tags_in"] = [
    p["id"] for p in client.projects(tags_in=[f"emerald-{suffix}"], fields=["id"])
]
out["untag_project"] = client.untag_project(project_id, tags=[gold])
out["tags_after_untag"] = [t["label"] for t in client.tags(project_id=project_id)]
out["untag_all"] = client.untag_project(project_id, all=True)
out["delete_tag"] = client.delete_tag(tag_name=gold)
out["delete_tag_id"] = client.delete_tag(tag_id=out["created"]["id"])
out["tags_left"] = [t["label"] for t in client.tags() if t["label"].endswith(suffix)]

# ---- copies
source = client.create_project(title=f"copied {suffix}", input_type="IMAGE",
                               json_interface=INTERFACE)["id"]  # fmt: skip
client.update_properties_in_project(source, instructions="https://docs.example/y",
                                    review_coverage=40)  # fmt: skip
asset_ids = client.append_many_to_dataset(
    source,
    content_array=[f"https://img.example/{i}.jpg" for i in range(3)],
    external_id_array=["c0", "c1", "c2"],
)["asset_ids"]
client.append_labels(asset_id_array=asset_ids[:2], json_response_array=[answer("A"), answer("B")])
plain = client.copy_project(source)
again = client.copy_project(source)
with_labels = client.copy_project(source, copy_assets=True, copy_labels=True)
fields = ["title", "description", "instructions", "reviewCoverage", "jsonInterface"]
out["copies"] = [
    client.projects(project_id=p, fields=fields)[0] for p in (plain, again, with_labels)
]
out["count_assets_plain"] = client.count_assets(plain)


def labels_of(project: str) -> list[list[str]]:
    found = client.labels(project, fields=["labelOf.externalId", "jsonResponse", "labelType"])
    return sorted([lb["labelOf"]["externalId"], lb["labelType"],
                   lb["jsonResponse"]["JOB"]["categories"][0]["name"]] for lb in found)  # fmt: skip


out["labels_source"] = labels_of(source)
out["labels_copy"] = labels_of(with_labels)
out["statuses_copy"] = sorted(
    [a["externalId"], a["currentStep"]["status"]]
    for a in client.assets(with_labels, fields=["externalId", "currentStep.status"])
)
try:
    client.copy_project(source, copy_labels=True)
except ValueError as exc:
    out["copy_labels_without_assets"] = str(exc)

# ---- archive
archived = client.create_project(title=f"archived {suffix}", input_type="IMAGE",
                                 json_interface=INTERFACE)["id"]  # fmt: skip
out["archive"] = client.archive_project(archived)
out["in_active"] = archived in [p["id"] for p in client.projects(archived=False, fields=["id"])]
out["in_archived"] = [p["id"] for p in client.projects(archived=True, fields=["id", "archived"])]
out["in_all"] = archived in [p["id"] for p in client.projects(fields=["id"])]
out["count_active_archived"] = [
    client.count_projects(project_id=archived, archived=False),
    client.count_projects(project_id=archived, archived=True),
]
out["unarchive"] = client.unarchive_project(archived)
out["in_active_after"] = archived in [
    p["id"] for p in client.projects(archived=False, fields=["id"])
]
out["archived_id"] = archived

# ---- versions (made by the local server's own mutation: the platform's way is unknown)
made = client.graphql_client.execute(
    "mutation($d: CreateProjectVersionData!) { createProjectVersion(data: $d) { id } }",
    {"d": {"projectId": archived, "name": "first"}},
)
version_id = made["createProjectVersion"]["id"]
out["versions"] = client.project_version(archived)
out["versions_generator"] = [v["id"] for v in client.project_version(archived, as_generator=True)]
out["count_versions"] = client.count_project_versions(archived)
out["update_version"] = client.update_properties_in_project_version(
    version_id, content="https://example.com/v.zip"
)
out["version_id"] = version_id

# ---- anonymization
out["anonymize"] = client.update_project_anonymization(with_labels)
out["authors_anonymized"] = sorted(
    lb["author"]["firstname"] for lb in client.labels(with_labels, fields=["author.firstname"])
)
client.update_project_anonymization(with_labels, should_anonymize=False)
out["authors_back"] = sorted(
    lb["author"]["firstname"] for lb in client.labels(with_labels, fields=["author.firstname"])
)
emit(out)
