"""Workflow steps on the wire and in the database: explicit nulls (as the official SDK sends
them), the lock reasons in ``extensions.context``, refused step groups, an older database
file's steps, and what a project's deletion takes with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support import answer, gql, import_images, new_project

import aiokili
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio

EDIT = """mutation($i: EditProjectWorkflowSettingsInput!) {
  editProjectWorkflowSettings(input: $i) {
    steps { name consensusCoverage numberOfExpectedLabelsForConsensus }
  }
}"""


async def test_explicit_nulls_clear_the_consensus(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    await kili.update_labeling_step_properties(
        project_id, "Labeling", consensus_coverage=30, number_of_expected_labels_for_consensus=3
    )
    labeling = (await kili.get_steps(project_id))[0].id
    nulls = {"id": labeling, "consensusCoverage": None, "numberOfExpectedLabelsForConsensus": None}
    body = gql(local_server, EDIT, i={"projectId": project_id, "steps": {"updates": [nulls]}})
    assert body["data"]["editProjectWorkflowSettings"]["steps"][0] == {
        "name": "Labeling", "consensusCoverage": None, "numberOfExpectedLabelsForConsensus": None
    }  # fmt: skip


async def test_step_groups_are_refused(kili: aiokili.AsyncKili, local_server: LocalServer) -> None:
    project_id = await new_project(kili)
    create = {"name": "QA", "type": "REVIEW", "assignees": [], "stepGroupId": "g1"}
    body = gql(local_server, EDIT, i={"projectId": project_id, "steps": {"creates": [create]}})
    [error] = body["errors"]
    assert "multi-group workflow's (V3)" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_lock_reason_is_in_the_errors_context(
    kili: aiokili.AsyncKili, kili_user: UserFactory, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    reviewer = await kili_user("REVIEWER", project_id=project_id)
    other = await kili_user("REVIEWER", project_id=project_id)
    email = (await reviewer.get_current_user()).email
    await kili.update_review_step_properties(project_id, "Review", assignees=[email])
    ids = await import_images(kili, project_id, 1)
    await kili.add_to_review(asset_ids=ids)
    document = """mutation($d: AppendManyLabelsData!, $w: AssetWhere!) {
      appendManyLabels(data: $d, where: $w) { id } }"""
    variables: dict[str, Any] = {
        "d": {"labelType": "REVIEW", "labelsData": [
            {"assetID": ids[0], "jsonResponse": '{"JOB": {"categories": [{"name": "A"}]}}'}
        ]},
        "w": {"idIn": ids},
    }  # fmt: skip
    with pytest.raises(aiokili.PermissionDeniedError) as refused:
        await other.execute(document, variables)
    [error] = refused.value.errors
    assert error.extensions == {"code": "FORBIDDEN", "context": {"reason": "NotInStepAssignees"}}
    assert error.message.startswith("[NotInStepAssignees] You cannot edit this asset")
    await reviewer.execute(document, variables)
    [asset] = await kili.assets(project_id, fields=["currentStep.status"])
    assert asset.current_step is not None and str(asset.current_step.status) == "DONE"


OLD_LAYOUT = """
CREATE TABLE old_steps (
  id TEXT PRIMARY KEY, project_id TEXT, name TEXT, type TEXT, position INTEGER) WITHOUT ROWID;
INSERT INTO old_steps SELECT id, project_id, name, type, position FROM project_steps;
DROP TABLE project_steps;
ALTER TABLE old_steps RENAME TO project_steps;
DROP TABLE alembic_version;
"""


async def test_an_older_files_steps_gain_their_settings(tmp_path: Path) -> None:
    """Steps written before step settings: their review steps review nothing, as before."""
    db = str(tmp_path / "old.sqlite3")
    with LocalServer(db=db) as server:
        async with aiokili.AsyncKili(api_key=server.api_key, api_endpoint=server.url) as kili:
            project_id = await new_project(kili)
            [asset] = await import_images(kili, project_id, 1)
        key = server.api_key
    with sqlite3.connect(db) as c:  # the steps as an older version wrote them (unstamped)
        c.executescript(OLD_LAYOUT)
    with LocalServer(db=db, api_key=key) as server:
        async with aiokili.AsyncKili(api_key=key, api_endpoint=server.url) as kili:
            steps = await kili.get_steps(project_id)
            assert [(s.name, s.step_coverage) for s in steps] == [("Labeling", None), ("Review", 0)]
            await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
            [found] = await kili.assets(project_id, fields=["currentStep.name", "status"])
            assert str(found.status) == "LABELED"


async def test_deleting_a_project_deletes_its_steps(
    kili: aiokili.AsyncKili, kili_user: UserFactory, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    reviewer = await kili_user("REVIEWER", project_id=project_id)
    email = (await reviewer.get_current_user()).email
    await kili.add_reviewers_to_step(project_id, "Review", [email])
    [asset] = await import_images(kili, project_id, 1)
    await kili.append_labels(asset_id_array=[asset], json_response_array=[answer("A")])
    steps = [s.id for s in await kili.get_steps(project_id)]
    await kili.delete_project(project_id)
    with local_server.store.db.read() as c:
        for table in ("project_steps", "step_assignees", "label_steps"):
            column = "id" if table == "project_steps" else "step_id"
            found = c.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} IN (?, ?)", steps
            ).fetchone()
            assert found == (0,), table
