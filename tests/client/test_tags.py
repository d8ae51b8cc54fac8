"""Tags end to end: created, listed, put on projects and taken off, renamed, deleted."""

from __future__ import annotations

import uuid

import pytest
from support import new_project

import aiokili
from aiokili import KiliInputError, NotFoundError, Tag

pytestmark = pytest.mark.anyio


def unique(name: str) -> str:
    """A label no other test of the session's server uses."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_tags_created_attached_renamed_removed(kili: aiokili.AsyncKili) -> None:
    red, blue = unique("red"), unique("blue")
    created = await kili.create_tag(red, color="#ff0000")
    assert isinstance(created, Tag)
    assert (created.label, created.color, created.checked_for_projects) == (red, "#ff0000", [])
    default = await kili.create_tag(blue)
    assert default.color.startswith("#")  # the default color
    me = await kili.get_current_user()
    assert created.organization_id == me.organization_id
    assert {red, blue} <= {t.label for t in await kili.tags()}

    project_id = await new_project(kili)
    other = await new_project(kili)
    tagged = await kili.tag_project(project_id, tags=[red, blue])
    assert [t.label for t in tagged] == [red, blue]
    assert [t.id for t in await kili.tag_project(other, tag_ids=[created.id])] == [created.id]
    again = await kili.tag_project(project_id, tags=[red])  # already on it: kept, no error
    assert [t.id for t in again] == [created.id]
    assert sorted(t.label for t in await kili.tags(project_id)) == sorted([red, blue])
    by_id = {t.id: t for t in await kili.tags()}
    assert sorted(by_id[created.id].checked_for_projects) == sorted([project_id, other])
    assert [p.id for p in await kili.projects(tags_in=[blue])] == [project_id]

    renamed = await kili.update_tag(red, unique("crimson"))
    assert renamed.id == created.id and renamed.label != red
    assert [t.label for t in await kili.tags(other)] == [renamed.label]
    with pytest.raises(NotFoundError, match=red):
        await kili.projects(tags_in=[red])
    assert {p.id for p in await kili.projects(tags_in=[renamed.label])} == {project_id, other}

    removed = await kili.untag_project(project_id, tags=[blue])
    assert [t.id for t in removed] == [default.id]
    assert [t.id for t in await kili.tags(project_id)] == [created.id]
    assert [t.id for t in await kili.untag_project(other, all=True)] == [created.id]
    assert await kili.tags(other) == []

    assert await kili.delete_tag(renamed.label) is True
    assert await kili.tags(project_id) == []  # a deleted tag leaves every project
    assert created.id not in {t.id for t in await kili.tags()}
    assert await kili.delete_tag(tag_id=default.id) is True
    assert default.id not in {t.id for t in await kili.tags()}


async def test_tag_mistakes_are_named(kili: aiokili.AsyncKili) -> None:
    label = unique("twin")
    first = await kili.create_tag(label)
    second = await kili.create_tag(label)  # two tags may share a label
    project_id = await new_project(kili)
    with pytest.raises(KiliInputError, match="Several tags have the label"):
        await kili.tag_project(project_id, tags=[label])
    assert [t.id for t in await kili.tag_project(project_id, tag_ids=[second.id])] == [second.id]
    with pytest.raises(NotFoundError, match="'no-such-tag'"):
        await kili.tag_project(project_id, tags=["no-such-tag"])
    with pytest.raises(NotFoundError, match="'no-such-id' are not tags of the organization"):
        await kili.tag_project(project_id, tag_ids=["no-such-id"])
    with pytest.raises(KiliInputError, match=r"exactly one of tags= or tag_ids= \(got none\)"):
        await kili.tag_project(project_id)
    with pytest.raises(KiliInputError, match=r"got tags=, tag_ids="):
        await kili.tag_project(project_id, tags=[label], tag_ids=[first.id])
    with pytest.raises(KiliInputError, match="are not on project") as err:
        await kili.untag_project(project_id, tag_ids=[first.id])
    assert label in str(err.value)  # names the tags that are on it
    assert [t.id for t in await kili.tags(project_id)] == [second.id]  # nothing removed
    with pytest.raises(KiliInputError, match="removes nothing"):
        await kili.untag_project(project_id, all=False)
    with pytest.raises(KiliInputError, match="exactly one of tags= or tag_ids= or all="):
        await kili.untag_project(project_id, tags=[label], all=True)
    with pytest.raises(KiliInputError, match="tags must be a list"):
        await kili.tag_project(project_id, tags=label)  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="name must be a non-empty string"):
        await kili.create_tag(" ")
    with pytest.raises(KiliInputError, match="exactly one of tag_name= or tag_id="):
        await kili.delete_tag(tag_name=label, tag_id=first.id)
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.tags("no-such-project")
    with pytest.raises(KiliInputError, match="nope"):
        await kili.tags(fields=["id", "nope"])
    (narrow,) = await kili.tags(project_id, fields=["label"])
    assert (narrow.id, narrow.label) == (second.id, label)
    with pytest.raises(AttributeError, match="color"):
        _ = narrow.color  # left out of fields=
    for tag in (first, second):
        await kili.delete_tag(tag_id=tag.id)
