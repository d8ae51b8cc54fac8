"""The unmodified official SDK (26.2.4) on project members and roles: adding a member by
email, changing and removing their role, a LABELER refused an admin action, a deactivated
user's key refused."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from official_support import official_python, run_official

from aiokili.server import LocalServer

__all__ = ["official_python"]  # the fixture, imported for pytest


@pytest.fixture(scope="module")
def out(
    official_python: Path, local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    tag = secrets.token_hex(3)
    labeler = local_server.create_user(f"labeler-{tag}@official.test")
    member = local_server.create_user(f"member-{tag}@official.test")
    env = {
        "LABELER_EMAIL": labeler.email, "LABELER_KEY": labeler.api_key,
        "MEMBER_EMAIL": member.email, "MEMBER_KEY": member.api_key,
    }  # fmt: skip
    result = run_official(
        official_python, "members_methods.py", local_server,
        tmp_path_factory.mktemp("members"), env=env,
    )  # fmt: skip
    return {"labeler": labeler.email, "member": member.email, **result}


def test_a_member_is_added_by_email(out: Any) -> None:
    appended = out["appended"]
    assert appended["role"] == "REVIEWER" and appended["user"]["email"] == out["member"]
    assert out["appended_labeler"]["role"] == "LABELER"
    members = {m["user"]["email"]: m for m in out["members"]}
    assert set(members[out["member"]]) == {"activated", "id", "role", "starred", "user", "status"}
    assert members[out["member"]]["status"] == "ACTIVATED" and members[out["member"]]["activated"]
    assert members["admin@aiokili.local"]["role"] == "ADMIN"  # the creator
    assert [m["isAuthor"] for m in out["members_fields"]] == [True, False, False]
    assert {m["user"]["email"] for m in out["members_activated"]} == {out["member"], out["labeler"]}
    assert out["members_admin"] == ["admin@aiokili.local"]  # an organization ADMIN: ORG_ADMIN
    assert out["members_by_email"] == [{"id": out["member_role_id"], "status": "ACTIVATED"}]
    assert out["members_generator"] == out["count"] == out["count_all"] == 3
    assert out["count_activated"] == 2


def test_a_members_role_is_changed_then_removed(out: Any) -> None:
    assert out["updated"] == {"user": {"id": out["appended"]["user"]["id"],
                                       "email": out["member"]}, "role": "TEAM_MANAGER"}  # fmt: skip
    assert out["updated_old_form"]["role"] == "LABELER"
    assert out["roles_after_update"] == sorted(
        [["admin@aiokili.local", "ADMIN"], [out["member"], "LABELER"], [out["labeler"], "LABELER"]]
    )
    assert out["deleted_by_email"] == {"id": out["project_id"]}
    assert out["deleted_by_id"] == {"id": out["project_id"]}
    assert out["count_after_delete"] == 2


def test_a_labeler_is_refused_admin_actions(out: Any) -> None:
    assert out["labeler_sees"] == [out["project_id"]]
    assert out["labeler_members"] == [out["labeler"]]  # a LABELER sees its own membership
    for refused, role in (("labeler_delete", "ADMIN"), ("labeler_interface", "ADMIN"),
                          ("labeler_append", "TEAM_MANAGER")):  # fmt: skip
        message = out[refused]["message"]
        assert "[accessDenied]" in message and f"role {role}" in message, out[refused]
        assert "you are LABELER" in message
    assert out["title"] == "members"  # nothing changed


def test_a_deactivated_users_key_is_refused(out: Any) -> None:
    assert out["member_before"] == out["member"]
    assert out["deactivated"] == {"id": out["appended"]["user"]["id"]}
    assert "deactivated" in out["member_deactivated"]["message"], out["member_deactivated"]
    # a new client checks its key at start-up, with the SDK's own message
    assert out["member_new_client"]["type"] == "AuthenticationFailed"
    assert out["reactivated"]["id"] == out["appended"]["user"]["id"]
    assert out["member_after"] == out["member"]
