"""The unmodified official SDK (26.2.4) on issues, users, organizations and project parameters."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("issues_methods.py")


def test_issues_come_back_as_written(out: Any) -> None:
    assets, labels = out["asset_ids"], out["label_ids"]
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


def test_issue_counts_and_filters(out: Any) -> None:
    created = [c["id"] for c in out["created"]]
    appended = out["appended"]["id"]
    assert out["count_issues"] == len(out["issues"]) == 4
    assert out["count_issues_open"] == 3
    assert out["count_issues_question"] == 1
    assert out["count_issues_asset0"] == 2
    assert out["count_issues_asset_in"] == len(out["issues_asset_in"]) == 2
    assert out["issues_asset_in"] == [created[1], appended]
    assert out["issues_solved"] == [created[0]]


def test_users_and_organizations(out: Any) -> None:
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


def test_a_project_copy_keeps_its_interface_and_tags(out: Any) -> None:
    assert out["copy"]["title"] == "copy" and out["copy"]["inputType"] == "TEXT"
    assert out["copy"]["instructions"] == "https://docs.example/x"
    assert out["copy"]["jsonInterface"]["jobs"]["JOB"]["mlTask"] == "CLASSIFICATION"
    assert out["tags_of_copy"] == ["official-red"]


def test_project_filters_and_counts(out: Any) -> None:
    tagged, copy = out["tagged_ids"]
    assert out["projects_tags_in"] == [tagged, copy]
    assert out["count_projects_tags_in"] == 2 and out["count_projects_blue"] == 0
    assert out["count_projects_org"] == out["count_projects_all"] >= 3
    assert out["count_projects_other_org"] == 0
    assert (
        out["count_projects_unstarred"] + out["count_projects_starred"] == out["count_projects_all"]
    )
    assert out["count_projects_deleted"] == 0


def test_deprecated_update_parameters_are_applied(out: Any) -> None:
    tagged, _ = out["tagged_ids"]
    assert out["updated"]["id"] == tagged
    assert out["after_update"] == {
        "metadataProperties": {"score": {"filterable": True, "type": "number",
                                         "visibleByLabeler": True, "visibleByReviewer": True}},
        "shouldAutoAssign": True,
        "inputType": "TEXT",
    }  # fmt: skip
