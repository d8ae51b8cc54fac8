"""The raw wire of the project administration the SDKs never send wrong: copyLabels between
projects, project versions without a project, tags' defaults."""

from __future__ import annotations

from typing import Any

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio

COPY_LABELS = "mutation($d: CopyLabelsInput!) { copyLabels(data: $d) }"


def error(body: dict[str, Any]) -> tuple[str, str]:
    (found,) = body["errors"]
    return found["extensions"]["code"], found["message"]


async def test_copy_labels_checks_both_assets(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    source = await new_project(kili)
    (src,) = await import_images(kili, source, 1)
    await kili.append_labels(asset_id_array=[src], json_response_array=[answer("A")])
    target = await new_project(kili)
    (dst,) = await import_images(kili, target, 1)

    body = gql(local_server, COPY_LABELS, d={"srcAssetId": src, "dstAssetId": dst,
                                            "projectId": source})  # fmt: skip
    code, message = error(body)
    assert code == "NOT_FOUND" and f'no asset "{dst}" in project "{source}"' in message
    body = gql(local_server, COPY_LABELS, d={"srcAssetId": "nope", "dstAssetId": dst,
                                            "projectId": target})  # fmt: skip
    assert error(body)[0] == "NOT_FOUND" and "nope" in error(body)[1]
    assert await kili.count_labels(target) == 0  # nothing written

    body = gql(local_server, COPY_LABELS, d={"srcAssetId": src, "dstAssetId": dst,
                                            "projectId": target, "skipRebuilds": True})  # fmt: skip
    assert body == {"data": {"copyLabels": True}}
    (copied,) = await kili.assets(target)
    assert f"{copied.status}" == "LABELED" and copied.current_step is not None
    assert (copied.current_step.name, f"{copied.current_step.status}") == ("Labeling", "DONE")


async def test_versions_need_a_project_and_a_name(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    body = gql(local_server, "query { projectVersions(where: {}) { id } }")
    assert error(body) == ("BAD_USER_INPUT", "where.projectId is required: give the project id.")
    project_id = await new_project(kili)
    body = gql(
        local_server,
        'mutation($p: ID!) { createProjectVersion(data: {projectId: $p, name: " "}) { id } }',
        p=project_id,
    )
    assert "data.name cannot be empty" in error(body)[1]
    body = gql(local_server, 'mutation { createProjectVersion(data: {projectId: "nope"}) { id } }')
    assert error(body)[0] == "NOT_FOUND"


def test_a_tag_needs_a_label_and_gets_a_color(local_server: LocalServer) -> None:
    create = "mutation($d: TagData!) { createTag(data: $d) { id label color organizationId } }"
    body = gql(local_server, create, d={"label": "  "})
    assert error(body)[1] == "data.label is required: give the tag a non-empty label."
    body = gql(local_server, create, d={"label": " spaced ", "color": ""})
    tag = body["data"]["createTag"]
    assert (tag["label"], tag["color"]) == ("spaced", "#1F6FEB")
    gql(local_server, "mutation($t: ID!) { deleteTag(tagId: $t) }", t=tag["id"])
