"""The unmodified official SDK (26.2.4) on issues, users, organizations and project parameters."""

from __future__ import annotations

from pathlib import Path

from official_support import official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, shared with test_official_sdk


def test_official_sdk_issues_users_and_project_parameters(
    official_python: Path, local_server: LocalServer, tmp_path: Path
) -> None:
    out = run_official(official_python, "issues_methods.py", local_server, tmp_path)
    assets, labels = out["asset_ids"], out["label_ids"]

    # issues: what was written comes back, counts equal lists
    created = [c["id"] for c in out["created"]]
    question = out["question"]["id"]
    appended = out["appended"]["id"]
    issues = {i["id"]: i for i in out["issues"]}
    assert list(issues) == [*created, appended, question]
    assert issues[created[0]] == {
        "id": created[0], "type": "ISSUE", "status": "SOLVED", "assetId": assets[0],
        "labelId": labels[0], "issueNumber": 1,
    }  # fmt: skip
    assert issues[created[1]]["assetId"] == assets[1]
    assert issues[appended]["labelId"] == labels[2] and issues[appended]["assetId"] == assets[2]
    assert issues[question]["type"] == "QUESTION" and issues[question]["labelId"] == labels[0]
    assert issues[question]["assetId"] == assets[0]
    assert set(out["issues_default_fields"][0]) == {"id", "createdAt", "status", "type", "assetId"}
    assert out["count_issues"] == len(out["issues"]) == 4
    assert out["count_issues_open"] == 3
    assert out["count_issues_question"] == 1
    assert out["count_issues_asset0"] == 2
    assert out["count_issues_asset_in"] == len(out["issues_asset_in"]) == 2
    assert out["issues_asset_in"] == [created[1], appended]
    assert out["issues_solved"] == [created[0]]

    # users and organizations
    me = out["me"]
    assert me["email"] == "admin@aiokili.local" and me["organizationId"]
    users = out["users"]  # other tests may have added members to the session's server
    assert users[0]["email"] == "admin@aiokili.local"  # oldest first
    assert set(users[0]) == {"email", "id", "firstname", "lastname"}
    assert out["users_by_email"] == [{"id": me["id"]}]
    assert out["users_by_org"] == [{"id": u["id"]} for u in users]
    assert out["count_users"] == len(users) and out["count_users_other_org"] == 0
    assert out["organizations"] == [{"id": me["organizationId"], "name": "aiokili"}]
    assert out["count_organizations"] == out["count_organizations_email"] == 1

    # projects: copy, tags, filters, deprecated update parameters
    tagged, copy = out["tagged_ids"]
    assert out["copy"]["title"] == "copy" and out["copy"]["inputType"] == "TEXT"
    assert out["copy"]["instructions"] == "https://docs.example/x"
    assert out["copy"]["jsonInterface"]["jobs"]["JOB"]["mlTask"] == "CLASSIFICATION"
    assert out["tags_of_copy"] == ["official-red"]
    assert out["projects_tags_in"] == [tagged, copy]
    assert out["count_projects_tags_in"] == 2 and out["count_projects_blue"] == 0
    assert out["count_projects_org"] == out["count_projects_all"] >= 3
    assert out["count_projects_other_org"] == 0
    assert (
        out["count_projects_unstarred"] + out["count_projects_starred"] == out["count_projects_all"]
    )
    assert out["count_projects_deleted"] == 0
    assert out["updated"]["id"] == tagged
    assert out["after_update"] == {
        "metadataProperties": {"score": {"filterable": True, "type": "number",
                                         "visibleByLabeler": True, "visibleByReviewer": True}},
        "shouldAutoAssign": True,
        "inputType": "TEXT",
    }  # fmt: skip
