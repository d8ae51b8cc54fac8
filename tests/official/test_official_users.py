"""The unmodified official SDK (26.2.4) on users, organizations and metrics, and what the
key of another organization on the same server sees."""

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
    user = local_server.create_user(f"user-{tag}@official.test", password="first-pass")
    other = local_server.create_organization(f"other {tag}", f"boss-{tag}@other.test")
    env = {
        "USER_KEY": user.api_key, "USER_EMAIL": user.email, "USER_PASSWORD": "first-pass",
        "OTHER_ORG_KEY": other.api_key,
    }  # fmt: skip
    result = run_official(
        official_python, "users_methods.py", local_server,
        tmp_path_factory.mktemp("users"), env=env,
    )  # fmt: skip
    return {"user": user.user_id, "other": other.email, **result}


def test_create_and_update_a_user(out: Any) -> None:
    created = out["created"]
    assert set(created) == {"id"}
    assert out["created_listed"] == [{"id": created["id"], "email": "official.created@users.test",
                                      "firstname": "Ofe", "organizationRole": "USER"}]  # fmt: skip
    assert out["updated"] == {"id": created["id"]}
    assert out["updated_listed"] == [
        {"firstname": "Offi", "lastname": "C", "organizationRole": "ADMIN"}
    ]
    assert out["deactivated"] == {"id": created["id"]}
    assert out["count_by_email"] == 1
    assert out["count_by_org"] == out["users_by_org"] == out["users_generator"] >= 3


def test_a_user_changes_their_password(out: Any) -> None:
    assert out["password"] == {"id": out["user"]}
    assert "oldPassword" in out["wrong_password"]


def test_organizations_and_their_metrics(out: Any) -> None:
    organization = out["me"]["organizationId"]
    assert out["organizations"] == [{"id": organization, "name": "aiokili"}]
    assert out["organizations_generator"] == out["organizations"]
    assert out["organizations_by_email"] == [{"id": organization}]
    assert out["organizations_by_id"] == out["organizations_count"] == 1
    assert out["metrics"] == {
        "numberOfAnnotations": 1, "numberOfHours": 1.0, "numberOfLabeledAssets": 1,
    }  # fmt: skip
    assert out["metrics_now"] == {
        "numberOfAnnotations": 0, "numberOfHours": 0.0, "numberOfLabeledAssets": 0,
    }  # fmt: skip
    assert out["projects_generator"] and out["issues_generator"] == []


def test_another_organization_sees_none_of_it(out: Any) -> None:
    assert out["other_projects"] == []
    assert out["other_count_users"] == 0
    assert out["other_users"] == [out["other"]]
    assert len(out["other_organizations"]) == 1 and out["other_organizations"][0].startswith(
        "other"
    )
    assert "not found" in out["other_metrics"]
