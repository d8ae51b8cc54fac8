"""Projects end to end against the local server."""

from __future__ import annotations

import pytest
from support import INTERFACE, new_project

import aiokili

pytestmark = pytest.mark.anyio


async def test_project_lifecycle(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    project = (await kili.projects(project_id=project_id))[0]
    assert project.title == "test IMAGE"
    assert project.input_type == aiokili.InputType.IMAGE
    assert project.json_interface == INTERFACE  # decoded from JSON text
    assert await kili.count_projects(project_id=project_id) == 1

    updated = await kili.update_properties_in_project(
        project_id, title="renamed", description="d", review_coverage=50
    )
    assert (updated.title, updated.description, updated.review_coverage) == ("renamed", "d", 50)
    assert await kili.count_projects(search_query="renamed%") >= 1

    await kili.delete_project(project_id)
    assert await kili.count_projects(project_id=project_id) == 0


async def test_bad_project_input_is_rejected_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(aiokili.KiliInputError, match="input_type"):
        await kili.create_project(title="x")
    with pytest.raises(aiokili.KiliInputError, match="json_interface must be a dict"):
        await kili.create_project(
            title="x",
            input_type="IMAGE",
            json_interface='{"jobs": {}}',  # type: ignore[arg-type]
        )
    with pytest.raises(aiokili.KiliInputError, match="review_coverage must be between 0 and 100"):
        await kili.update_properties_in_project("p", review_coverage=150)
    with pytest.raises(aiokili.KiliInputError, match="use_honeypot must be True or False"):
        await kili.update_properties_in_project("p", use_honeypot="yes")  # type: ignore[arg-type]
    with pytest.raises(aiokili.KiliInputError, match=r'unknown filter "titel"'):
        kili.projects(titel="x")  # type: ignore[call-arg]


async def test_unknown_project_is_not_found_naming_it(kili: aiokili.AsyncKili) -> None:
    for call in (
        kili.assets("no-such-project"),
        kili.labels("no-such-project", first=5),
        kili.count_assets("no-such-project"),
        kili.count_labels("no-such-project"),
    ):
        with pytest.raises(aiokili.NotFoundError, match="no-such-project"):
            await call
    assert await kili.count_projects(project_id="no-such-project") == 0  # as the official SDK
