"""Archiving, project versions and anonymization end to end against the local server."""

from __future__ import annotations

from typing import Any

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili import KiliInputError, NotFoundError, ProjectVersion

pytestmark = pytest.mark.anyio

CREATE_VERSION = """
mutation ($data: CreateProjectVersionData!) { createProjectVersion(data: $data) { id name } }
"""


async def new_version(kili: aiokili.AsyncKili, project_id: str, **data: Any) -> str:
    """A version made by the local server's own mutation (the platform's way is unknown)."""
    result: Any = await kili.execute(CREATE_VERSION, {"data": {"projectId": project_id, **data}})
    version_id: str = result["createProjectVersion"]["id"]
    return version_id


async def test_archiving_hides_a_project_from_the_active_list(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    other = await new_project(kili)
    active = {p.id for p in await kili.projects(archived=False)}
    assert {project_id, other} <= active

    archived = await kili.archive_project(project_id)
    assert archived.id == project_id and archived.archived is True
    assert project_id not in {p.id for p in await kili.projects(archived=False)}
    assert other in {p.id for p in await kili.projects(archived=False)}
    assert await kili.count_projects(archived=False) == len(active) - 1
    assert [p.id for p in await kili.projects(archived=True, project_id=project_id)] == [project_id]
    assert project_id in {p.id for p in await kili.projects()}  # no filter: both, as in 26.2.4
    await import_images(kili, project_id, 1)  # an archived project still works
    assert await kili.count_assets(project_id) == 1

    restored = await kili.unarchive_project(project_id)
    assert restored.archived is False
    assert project_id in {p.id for p in await kili.projects(archived=False)}
    assert await kili.count_projects(archived=True, project_id=project_id) == 0
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.archive_project("no-such-project")
    with pytest.raises(KiliInputError, match="project_id"):
        await kili.unarchive_project("")


async def test_project_versions(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    assert await kili.project_version(project_id) == []
    assert await kili.count_project_versions(project_id) == 0
    first = await new_version(kili, project_id)
    second = await new_version(kili, project_id, name="release", content="https://x/1.zip")

    versions = await kili.project_version(project_id)
    assert all(isinstance(v, ProjectVersion) for v in versions)
    assert [(v.id, v.name, v.content) for v in versions] == [
        (first, "v1", None),
        (second, "release", "https://x/1.zip"),
    ]
    assert {v.project_id for v in versions} == {project_id}
    assert versions[0].created_at <= versions[1].created_at
    assert await kili.count_project_versions(project_id) == 2
    assert [v.id for v in await kili.project_version(project_id, first=1, skip=1)] == [second]
    assert [v.name async for v in kili.project_version(project_id, fields=["name"])] == [
        "v1",
        "release",
    ]

    updated = await kili.update_properties_in_project_version(first, content="https://x/0.zip")
    assert (updated.id, updated.content) == (first, "https://x/0.zip")
    assert (await kili.project_version(project_id))[0].content == "https://x/0.zip"
    cleared = await kili.update_properties_in_project_version(first, content=None)
    assert cleared.content is None

    with pytest.raises(NotFoundError, match="no-such-version"):
        await kili.update_properties_in_project_version("no-such-version", content="x")
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.project_version("no-such-project")
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.count_project_versions("no-such-project")
    with pytest.raises(KiliInputError, match="content must be a string"):
        await kili.update_properties_in_project_version(first, content=3)  # type: ignore[arg-type]
    await kili.delete_project(project_id)
    with pytest.raises(NotFoundError, match=first):  # versions go with their project
        await kili.update_properties_in_project_version(first, content="x")


async def test_anonymization_hides_the_names_of_label_and_issue_authors(
    kili: aiokili.AsyncKili,
) -> None:
    project_id = await new_project(kili)
    asset_ids = await import_images(kili, project_id, 1)
    (label_id,) = await kili.append_labels(
        asset_id_array=asset_ids, json_response_array=[answer("A")]
    )
    await kili.create_issues(project_id, [label_id], text_array=["why?"])
    other = await new_project(kili)
    other_assets = await import_images(kili, other, 1)
    await kili.append_labels(asset_id_array=other_assets, json_response_array=[answer("A")])
    me = await kili.get_current_user()

    async def authors(project: str) -> list[tuple[str | None, str | None, str]]:
        found = [lb.author for lb in await kili.labels(project)]
        found += [i.author for i in await kili.issues(project)]
        return [(a.firstname, a.lastname, a.email) for a in found if a is not None]

    assert await authors(project_id) == [(me.firstname, me.lastname, me.email)] * 2
    project = await kili.update_project_anonymization(project_id)
    assert project.id == project_id
    assert await authors(project_id) == [("Anonymized", None, me.email)] * 2
    assert await authors(other) == [(me.firstname, me.lastname, me.email)]  # other projects
    copy = await kili.copy_project(project_id, copy_assets=True, copy_labels=True)
    assert await authors(copy.id) == [("Anonymized", None, me.email)]  # a setting: copied

    await kili.update_project_anonymization(project_id, should_anonymize=False)
    assert await authors(project_id) == [(me.firstname, me.lastname, me.email)] * 2
    with pytest.raises(KiliInputError, match="should_anonymize must be True or False"):
        await kili.update_project_anonymization(project_id, "yes")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="no-such-project"):
        await kili.update_project_anonymization("no-such-project")
