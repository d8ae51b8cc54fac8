"""copy_project end to end: settings, tags, titles, assets (with their media) and labels."""

from __future__ import annotations

import uuid

import pytest
from support import INTERFACE, answer, download, import_images

import aiokili
from aiokili import KiliInputError, NotFoundError
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


async def source_project(kili: aiokili.AsyncKili, title: str) -> str:
    """An IMAGE project with instructions, a review coverage and a tag."""
    tag = await kili.create_tag(f"copied-{uuid.uuid4().hex[:8]}")
    project = await kili.create_project(
        title=title, description="the source", input_type="IMAGE", json_interface=INTERFACE
    )
    await kili.update_properties_in_project(
        project.id, instructions="https://docs.example/howto", review_coverage=30
    )
    await kili.tag_project(project.id, tag_ids=[tag.id])
    return project.id


async def test_copy_without_assets_keeps_the_settings_and_names_each_copy(
    kili: aiokili.AsyncKili,
) -> None:
    title = f"source {uuid.uuid4().hex[:8]}"
    source = await source_project(kili, title)
    await import_images(kili, source, 2)

    copy = await kili.copy_project(source)
    assert copy.id != source
    assert (copy.title, copy.description) == (f"{title} (copy)", "")
    assert copy.input_type is aiokili.InputType.IMAGE and copy.json_interface == INTERFACE
    assert (copy.instructions, copy.review_coverage) == ("https://docs.example/howto", 30)
    assert [s.name for s in copy.steps] == ["Labeling", "Review"]
    assert {s.id for s in copy.steps}.isdisjoint(
        {s.id for s in (await kili.get_project(source)).steps}
    )
    assert [t.label for t in await kili.tags(copy.id)] == [t.label for t in await kili.tags(source)]
    assert await kili.count_assets(copy.id) == 0

    second = await kili.copy_project(source)
    third = await kili.copy_project(source, title="mine", description="d")
    assert second.title == f"{title} (copy 1)"
    assert (third.title, third.description) == ("mine", "d")
    assert (await kili.get_project(source)).title == title  # the source is untouched


async def test_copy_with_assets_and_labels(kili: aiokili.AsyncKili) -> None:
    source = await source_project(kili, f"labelled {uuid.uuid4().hex[:8]}")
    asset_ids = await import_images(kili, source, 3)
    await kili.append_labels(
        asset_id_array=asset_ids[:2], json_response_array=[answer("A"), answer("B")]
    )
    await kili.append_labels(
        asset_id_array=[asset_ids[1]], json_response_array=[answer("A")], label_type="REVIEW"
    )

    await kili.update_properties_in_assets(
        asset_ids=[asset_ids[2]], resolution_array=[{"width": 640, "height": 480}]
    )
    assets_only = await kili.copy_project(source, copy_assets=True)
    copied = await kili.assets(assets_only.id)
    originals = await kili.assets(source)
    assert [a.resolution for a in copied] == [a.resolution for a in originals]
    assert copied[2].resolution is not None and copied[2].resolution.width == 640
    assert [a.external_id for a in copied] == [a.external_id for a in originals]
    assert [a.json_metadata for a in copied] == [a.json_metadata for a in originals]
    assert [a.content for a in copied] == [a.content for a in originals]
    assert [f"{a.status}" for a in copied] == ["TODO"] * 3  # new assets, no labels
    assert await kili.count_labels(assets_only.id) == 0

    with_labels = await kili.copy_project(source, copy_assets=True, copy_labels=True)
    copied = await kili.assets(with_labels.id)
    assert [f"{a.status}" for a in copied] == [f"{a.status}" for a in originals]
    assert [a.current_step for a in copied] == [a.current_step for a in originals]
    labels = await kili.labels(with_labels.id)
    source_labels = await kili.labels(source)
    assert [(lb.label_of.external_id if lb.label_of else None, f"{lb.label_type}",
             lb.json_response) for lb in labels] == [
        (lb.label_of.external_id if lb.label_of else None, f"{lb.label_type}", lb.json_response)
        for lb in source_labels
    ]  # fmt: skip
    assert {lb.author.id for lb in labels if lb.author} == {
        lb.author.id for lb in source_labels if lb.author
    }
    assert {lb.asset_id for lb in labels} <= {a.id for a in copied}
    search = "JOB.A.count > 0"  # the copied labels' categories are searchable
    found = await kili.count_assets(with_labels.id, label_category_search=search)
    assert found == await kili.count_assets(source, label_category_search=search) > 0


async def test_a_copied_upload_outlives_its_source(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project = await kili.create_project(title="texts", input_type="TEXT", json_interface=INTERFACE)
    await kili.append_many_to_dataset(
        project.id, content_array=["hello world"], external_id_array=["t0"]
    )
    copy = await kili.copy_project(project.id, copy_assets=True)
    await kili.delete_project(project.id)
    (asset,) = await kili.assets(copy.id)
    assert await download(asset.content, local_server) == b"hello world"


async def test_legacy_workflow_labels_are_added_again(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    source = await source_project(kili, f"legacy {uuid.uuid4().hex[:8]}")
    asset_ids = await import_images(kili, source, 2)
    await kili.append_labels(asset_id_array=asset_ids, json_response_array=[answer("B")] * 2)
    await kili.create_predictions(
        source, asset_id_array=[asset_ids[0]], json_response_array=[answer("A")],
        model_name="model-1",
    )  # fmt: skip
    store = local_server.store  # a project of an older database file: no steps (V1)
    with store.db.write() as c:
        c.execute("DELETE FROM project_steps WHERE project_id = ?", (source,))
        c.execute("UPDATE assets SET step_id = NULL, step_status = NULL WHERE project_id = ?",
                  (source,))  # fmt: skip
    store.projects.step_cache.pop(source, None)
    assert f"{(await kili.get_project(source)).workflow_version}" == "V1"

    with pytest.warns(DeprecationWarning, match="legacy workflow"):
        copy = await kili.copy_project(source, copy_assets=True, copy_labels=True)
    assert f"{copy.workflow_version}" == "V1"
    labels = await kili.labels(copy.id)
    assert sorted((f"{lb.label_type}", lb.model_name, lb.json_response["JOB"]["categories"][0]["name"])
                  for lb in labels) == [("DEFAULT", None, "B"), ("DEFAULT", None, "B"),
                                        ("PREDICTION", "model-1", "A")]  # fmt: skip
    assert [f"{a.status}" for a in await kili.assets(copy.id)] == ["LABELED", "LABELED"]


async def test_bad_copies_are_refused_before_any_write(kili: aiokili.AsyncKili) -> None:
    source = await source_project(kili, f"refused {uuid.uuid4().hex[:8]}")
    before = await kili.count_projects()
    with pytest.raises(KiliInputError, match="copy_json_interface is deprecated"):
        await kili.copy_project(source, copy_json_interface=False)
    with pytest.raises(KiliInputError, match="copy_quality_settings is deprecated"):
        await kili.copy_project(source, copy_quality_settings=False)
    with pytest.raises(KiliInputError, match="copy_labels=True needs copy_assets=True"):
        await kili.copy_project(source, copy_labels=True)
    with pytest.raises(KiliInputError, match="copy_labels=True needs"):
        await kili.copy_project(source, copy_assets=True, copy_members=False, copy_labels=True)
    with pytest.raises(KiliInputError, match="copy_assets must be True or False"):
        await kili.copy_project(source, copy_assets="yes")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="title must be a non-empty string"):
        await kili.copy_project(source, title="")
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.copy_project("no-such-project")
    llm = await kili.create_project(title="llm", input_type="LLM_RLHF", json_interface=INTERFACE)
    with pytest.raises(KiliInputError, match="LLM_RLHF cannot be copied"):
        await kili.copy_project(llm.id)
    assert await kili.count_projects() == before + 1  # only the LLM project


async def test_the_server_refuses_what_it_does_not_copy(kili: aiokili.AsyncKili) -> None:
    llm = await kili.create_project(title="llm", input_type="LLM_STATIC", json_interface=INTERFACE)
    with pytest.raises(aiokili.GraphQLError, match="LLM_STATIC is not supported"):
        await kili.execute(
            "mutation($d: CopyProjectData!) { copyProject(data: $d) }",
            {"d": {"projectId": llm.id}},
        )


async def test_copy_members_as_asked(kili: aiokili.AsyncKili, kili_user: UserFactory) -> None:
    """copy_members=True: the source's members join the copy with their roles; False: only
    the caller, as the copy's ADMIN. Either way the copy is in the caller's organization."""
    source = await source_project(kili, f"members {uuid.uuid4().hex[:8]}")
    labeler = await kili_user("LABELER", project_id=source)
    email = (await labeler.get_current_user()).email

    with_members = await kili.copy_project(source)
    without = await kili.copy_project(source, copy_members=False)

    def roles(members: list[aiokili.ProjectUser]) -> dict[str, str]:
        return {m.user.email: m.role.value for m in members}

    admin = (await kili.get_current_user()).email
    assert roles(await kili.project_users(with_members.id)) == {admin: "ADMIN", email: "LABELER"}
    assert roles(await kili.project_users(without.id)) == {admin: "ADMIN"}
    # the member sees the copy it was copied into, and not the other one
    assert [p.id for p in await labeler.projects(project_id=with_members.id)] == [with_members.id]
    assert await labeler.count_projects(project_id=without.id) == 0
