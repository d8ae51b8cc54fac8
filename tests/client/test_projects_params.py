"""The project parameters of kili 26.2.4 beyond the spine's, and get_project, end to end."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from support import INTERFACE, gql, new_project

import aiokili
from aiokili import KiliInputError, NotFoundError, Project
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


def create_tag(server: LocalServer, label: str) -> str:
    body = gql(server, "mutation($d:TagData!){createTag(data:$d){id}}", d={"label": label})
    tag_id: str = body["data"]["createTag"]["id"]
    return tag_id


def star(server: LocalServer, project_id: str, starred: bool = True) -> None:
    body = gql(
        server,
        "mutation($d:ProjectUserData!,$w:ProjectUserWhere!)"
        "{updatePropertiesInProjectUser(data:$d,where:$w){starred}}",
        d={"starred": starred},
        w={"project": {"id": project_id}},
    )
    assert body["data"]["updatePropertiesInProjectUser"]["starred"] is starred


def tags_of(server: LocalServer, project_id: str) -> list[str]:
    body = gql(server, "query($p:ID!){listTagsByProject(projectId:$p){label}}", p=project_id)
    return sorted(t["label"] for t in body["data"]["listTagsByProject"])


async def test_get_project(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    project = await kili.get_project(project_id)
    assert isinstance(project, Project)
    assert project.id == project_id and project.json_interface == INTERFACE
    with pytest.raises(NotFoundError, match='Project "no-such-project" not found'):
        await kili.get_project("no-such-project")
    with pytest.raises(KiliInputError, match="project_id"):
        await kili.get_project("")


async def test_create_project_with_tags_and_filter_by_tags(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    create_tag(local_server, "tag-red")
    create_tag(local_server, "tag-blue")
    red = await kili.create_project(
        title="red", input_type="TEXT", json_interface=INTERFACE, tags=["tag-red"]
    )
    both = await kili.create_project(
        title="both", input_type="TEXT", json_interface=INTERFACE, tags=["tag-red", "tag-blue"]
    )
    assert tags_of(local_server, red.id) == ["tag-red"]
    assert tags_of(local_server, both.id) == ["tag-blue", "tag-red"]

    async def ids(**filters: Any) -> list[str]:
        listed = [p.id for p in await kili.projects(**filters)]
        assert len(listed) == await kili.count_projects(**filters)
        return listed

    assert await ids(tags_in=["tag-red"]) == [red.id, both.id]
    assert await ids(tags_in=["tag-blue"]) == [both.id]
    assert await ids(tags_in=["tag-blue"], search_query="both") == [both.id]
    assert await ids(tags_in=["tag-blue"], search_query="red") == []
    with pytest.raises(NotFoundError, match="'tag-green'"):
        await kili.projects(tags_in=["tag-green"])
    with pytest.raises(NotFoundError, match="'tag-green'"):
        await kili.count_projects(tags_in=["tag-green"])
    with pytest.raises(NotFoundError, match="'tag-green'"):
        await kili.create_project(
            title="x", input_type="TEXT", json_interface=INTERFACE, tags=["tag-green"]
        )
    with pytest.raises(KiliInputError, match="tags_in"):
        kili.projects(tags_in="tag-red")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="tags"):
        await kili.create_project(
            title="x",
            input_type="TEXT",
            json_interface=INTERFACE,
            tags="tag-red",  # type: ignore[arg-type]
        )


async def test_create_project_copies_project_id(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    create_tag(local_server, "tag-copied")
    source = await kili.create_project(
        title="source", input_type="PDF", json_interface=INTERFACE, tags=["tag-copied"]
    )
    await kili.update_properties_in_project(source.id, instructions="https://docs/x")

    copy = await kili.create_project(title="copy", description="d", project_id=source.id)

    assert copy.id != source.id
    assert (copy.title, copy.description) == ("copy", "d")
    assert copy.input_type is aiokili.InputType.PDF
    assert copy.json_interface == INTERFACE
    assert copy.instructions == "https://docs/x"
    assert tags_of(local_server, copy.id) == ["tag-copied"]
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.create_project(title="copy", project_id="no-such-project")
    with pytest.raises(KiliInputError, match="project_id"):
        await kili.create_project(title="copy", project_id="")
    with pytest.raises(KiliInputError, match="copies that project's input_type"):
        await kili.create_project(title="copy", project_id=source.id, input_type="IMAGE")


async def test_pixel_labeling(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    project = await kili.create_project(
        title="geo", input_type="GEOSPATIAL", json_interface=INTERFACE, pixel_labeling=True
    )
    body = gql(local_server, "query($w:ProjectWhere!){projects(where:$w){geospatialSettings}}",
               w={"id": project.id})  # fmt: skip
    assert body["data"]["projects"][0]["geospatialSettings"] == {"labelingCRSCode": "PIXEL"}
    copy = await kili.create_project(title="geo copy", project_id=project.id)  # keeps the mode
    body = gql(local_server, "query($w:ProjectWhere!){projects(where:$w){geospatialSettings}}",
               w={"id": copy.id})  # fmt: skip
    assert body["data"]["projects"][0]["geospatialSettings"] == {"labelingCRSCode": "PIXEL"}

    with pytest.raises(KiliInputError, match="only for input_type='GEOSPATIAL'"):
        await kili.create_project(
            title="x", input_type="IMAGE", json_interface=INTERFACE, pixel_labeling=True
        )
    with pytest.raises(KiliInputError, match="pixel_labeling cannot be combined"):
        await kili.create_project(title="x", project_id=project.id, pixel_labeling=True)
    with pytest.raises(KiliInputError, match="pixel_labeling"):
        await kili.create_project(
            title="x",
            input_type="GEOSPATIAL",
            json_interface=INTERFACE,
            pixel_labeling="yes",  # type: ignore[arg-type]
        )


async def test_starred_organization_archived_deleted_updated_filters(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    first = await new_project(kili)
    second = await new_project(kili)
    star(local_server, second)
    mine = {first, second}

    starred = {p.id for p in await kili.projects(starred=True)}
    assert second in starred and first not in starred
    unstarred = {p.id for p in await kili.projects(starred=False)}
    assert first in unstarred and second not in unstarred
    assert await kili.count_projects(starred=True) == len(starred)
    star(local_server, second, False)
    assert second not in {p.id for p in await kili.projects(starred=True)}

    org = (await kili.get_current_user()).organization_id
    assert org is not None
    in_org = {p.id for p in await kili.projects(organization_id=org)}
    assert mine <= in_org and len(in_org) == await kili.count_projects(organization_id=org)
    assert await kili.count_projects(organization_id="other-org") == 0

    await kili.update_properties_in_project(first, title="renamed")
    assert await kili.count_projects(deleted=True) == 0  # deletions are immediate
    assert mine <= {p.id for p in await kili.projects(deleted=False)}
    assert first in {p.id for p in await kili.projects(archived=False)}
    assert await kili.count_projects(project_id=first, updated_at_gte="2000-01-01") == 1
    assert await kili.count_projects(project_id=first, updated_at_lte="2000-01-01") == 0
    with pytest.raises(KiliInputError, match="starred"):
        kili.projects(starred="yes")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="organization_id"):
        await kili.count_projects(organization_id=3)  # type: ignore[typeddict-item]


async def test_update_properties_deprecated_parameters(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)

    with pytest.warns(DeprecationWarning, match="metadata_types"):
        project = await kili.update_properties_in_project(
            project_id, metadata_types={"score": "number"}
        )
    assert project.metadata_properties == {
        "score": {"type": "number", "filterable": True, "visibleByLabeler": True,
                  "visibleByReviewer": True},
    }  # fmt: skip
    project = await kili.update_properties_in_project(
        project_id, metadata_properties={"split": {"visibleByLabeler": False}}
    )
    assert project.metadata_properties == {
        "split": {"type": "string", "filterable": True, "visibleByLabeler": False,
                  "visibleByReviewer": True},
    }  # fmt: skip

    with pytest.warns(DeprecationWarning, match="seconds_to_label_before_auto_assign"):
        await kili.update_properties_in_project(project_id, seconds_to_label_before_auto_assign=30)
    body = await kili.execute(
        "query($w:ProjectWhere!){projects(where:$w){shouldAutoAssign inputType}}",
        {"w": {"id": project_id}},
    )
    assert body["projects"] == [{"shouldAutoAssign": True, "inputType": "IMAGE"}]  # type: ignore[comparison-overlap]

    with pytest.warns(DeprecationWarning, match="input_type"):
        project = await kili.update_properties_in_project(project_id, input_type="TEXT")
    assert project.input_type is aiokili.InputType.IMAGE  # cannot change: not sent


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"metadata_types": ["number"]}, "metadata_types"),
        ({"metadata_types": {"a": 1}}, "metadata_types"),
        ({"metadata_properties": {"a": "number"}}, "metadata_properties"),
        ({"metadata_properties": "x"}, "metadata_properties"),
        ({"seconds_to_label_before_auto_assign": "30"}, "seconds_to_label_before_auto_assign"),
    ],
)
async def test_update_properties_bad_input(
    kili: aiokili.AsyncKili, kwargs: dict[str, Any], named: str
) -> None:
    with (
        pytest.warns(DeprecationWarning)
        if any(k in kwargs for k in ("metadata_types", "seconds_to_label_before_auto_assign"))
        else contextlib.nullcontext()
    ):
        with pytest.raises(KiliInputError, match=named):
            await kili.update_properties_in_project("p", **kwargs)
