"""Project members and roles against the real local server: adding a member by email,
changing and removing their role, what each role may do (the server refuses, naming the
role), members as listings."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili import (
    BulkOperationError,
    KiliInputError,
    NotFoundError,
    PermissionDeniedError,
    ProjectRole,
    ProjectUser,
    ProjectUserStatus,
)
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


def email(name: str) -> str:
    return f"{name}-{id(name)}@members.test"


async def test_add_a_member_by_email_change_then_remove_their_role(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    account = local_server.create_user(email("bob"))
    member = await kili.append_to_roles(project_id, account.email.upper(), "REVIEWER")
    assert isinstance(member, ProjectUser)
    assert (member.role, member.status, member.user.email) == (
        ProjectRole.REVIEWER, ProjectUserStatus.ACTIVATED, account.email,
    )  # fmt: skip
    assert member.activated and not member.is_author and not member.starred
    members = await kili.project_users(project_id)
    admin = (await kili.get_current_user()).email
    assert [(m.user.email, f"{m.role}") for m in members] == [
        (admin, "ADMIN"), (account.email, "REVIEWER"),
    ]  # fmt: skip
    assert members[0].is_author and members[0].status is ProjectUserStatus.ORG_ADMIN

    changed = await kili.update_properties_in_project_user(project_id, account.email, "LABELER")
    assert changed.id == member.id and changed.role is ProjectRole.LABELER
    again = await kili.append_to_roles(project_id, account.email, ProjectRole.TEAM_MANAGER)
    assert again.id == member.id and again.role is ProjectRole.TEAM_MANAGER  # same membership
    with pytest.warns(DeprecationWarning, match="update_properties_in_project_user"):
        old_form = await kili.update_properties_in_role(
            member.id, project_id, account.user_id, "LABELER"
        )
    assert old_form.role is ProjectRole.LABELER

    assert await kili.delete_from_roles(user_email=account.email, project_id=project_id) == (
        project_id
    )
    assert [m.user.email for m in await kili.project_users(project_id)] == [admin]
    readded = await kili.append_to_roles(project_id, account.email)  # LABELER by default
    assert readded.role is ProjectRole.LABELER
    assert await kili.delete_from_roles(role_id=readded.id) == project_id
    assert await kili.count_project_users(project_id) == 1
    with pytest.raises(NotFoundError, match=re.escape(account.email)):
        await kili.update_properties_in_project_user(project_id, account.email, "REVIEWER")


async def test_an_organization_admin_invites_a_new_email(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    invited = email("newcomer")
    member = await kili.append_to_roles(project_id, invited, "LABELER")
    assert member.user.email == invited
    assert [u.email for u in await kili.users(email=invited)] == [invited]  # in the organization


async def test_member_filters_statuses_and_listings(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    active, suspended = (
        local_server.create_user(email("on")),
        local_server.create_user(email("off")),
    )
    for account in (active, suspended):
        await kili.append_to_roles(project_id, account.email)
    await kili.update_properties_in_user(suspended.email, activated=False)
    try:
        statuses = {m.user.email: m.status for m in await kili.project_users(project_id)}
        assert statuses[suspended.email] is ProjectUserStatus.ORG_SUSPENDED
        assert statuses[active.email] is ProjectUserStatus.ACTIVATED

        async def emails(**filters: object) -> list[str]:
            listed = [m.user.email async for m in kili.project_users(project_id, **filters)]  # type: ignore[arg-type]
            assert len(listed) == await kili.count_project_users(project_id, **filters)  # type: ignore[arg-type]
            return listed

        admin = (await kili.get_current_user()).email
        assert await emails() == [admin, active.email, suspended.email]
        assert await emails(status_in=["ACTIVATED"]) == [active.email]
        assert await emails(status_in=["ORG_SUSPENDED", "ACTIVATED"]) == [
            active.email, suspended.email,
        ]  # fmt: skip
        assert await emails(status_in=[]) == []
        assert await emails(email=active.email.upper()) == [active.email]
        member_id = statuses and (await kili.project_users(project_id, email=active.email))[0].id
        assert await emails(id=member_id) == [active.email]
        organization = (await kili.get_current_user()).organization_id
        assert await emails(organization_id=organization) == await emails()
        assert await emails(organization_id="another-organization") == []
        window = kili.project_users(
            project_id, status_in=["ORG_ADMIN", "ORG_SUSPENDED"], first=1, skip=1
        )
        assert [m.user.email for m in await window] == [suspended.email]
        assert await window.count() == 1
        narrow = await kili.project_users(project_id, fields=["role"], as_generator=True)
        assert {f"{m.role}" for m in narrow} == {"ADMIN", "LABELER"}
    finally:
        await kili.update_properties_in_user(suspended.email, activated=True)


async def test_bad_member_arguments_fail_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(KiliInputError, match="role must be one of"):
        await kili.append_to_roles("p", "a@b.c", "OWNER")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="user_email must be an email"):
        await kili.append_to_roles("p", "nobody")
    with pytest.raises(KiliInputError, match="role_id, or user_email and project_id"):
        await kili.delete_from_roles(user_email="a@b.c")
    with pytest.raises(KiliInputError, match="status_in"):
        kili.project_users("p", status_in="ACTIVATED")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="statuses"):
        kili.project_users("p", statuses=["ACTIVATED"])  # type: ignore[call-arg]


async def test_a_labeler_labels_and_reads_but_is_refused_admin_actions(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id = await new_project(kili)
    labeler = await kili_user(role="LABELER", project_id=project_id)
    asset_ids = await import_images(kili, project_id, 2)
    await kili.append_labels(asset_id_array=[asset_ids[0]], json_response_array=[answer("A")])
    mine = await labeler.append_labels(
        asset_id_array=[asset_ids[1]], json_response_array=[answer("B")]
    )

    assert (await labeler.get_project(project_id)).id == project_id
    assert await labeler.count_assets(project_id) == 2
    assert [label.id for label in await labeler.labels(project_id)] == mine  # their own only
    assert await kili.count_labels(project_id) == 2
    me = (await labeler.get_current_user()).email
    assert [m.user.email for m in await labeler.project_users(project_id)] == [me]

    refused: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("ADMIN", lambda: labeler.delete_project(project_id)),
        ("ADMIN", lambda: labeler.update_properties_in_project(project_id, json_interface={"jobs": {}})),
        ("ADMIN", lambda: labeler.append_many_to_dataset(project_id, content_array=["https://x/y.jpg"])),
        ("TEAM_MANAGER", lambda: labeler.append_to_roles(project_id, email("friend"))),
        ("TEAM_MANAGER", lambda: labeler.delete_labels(mine)),
        ("REVIEWER", lambda: labeler.add_to_review(asset_ids, project_id=project_id)),
    ]  # fmt: skip
    for role, call in refused:
        with pytest.raises((PermissionDeniedError, BulkOperationError)) as caught:
            await call()
        error = caught.value  # a bulk call reports it for each of its items
        if isinstance(error, BulkOperationError):
            assert not error.succeeded
            error = error.failures[0].error
        assert isinstance(error, PermissionDeniedError)
        assert re.search(rf"\[accessDenied\] .* {role}\b.*you are LABELER", str(error)), error
    assert await kili.count_assets(project_id) == 2  # nothing was done


async def test_a_team_manager_manages_labelers_but_not_admins(
    kili: aiokili.AsyncKili, kili_user: UserFactory, local_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    manager = await kili_user(role="TEAM_MANAGER", project_id=project_id)
    worker = local_server.create_user(email("worker"))
    added = await manager.append_to_roles(project_id, worker.email, "REVIEWER")
    assert added.role is ProjectRole.REVIEWER
    assert len(await manager.project_users(project_id)) == 3  # a manager sees every member
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await manager.update_properties_in_project_user(project_id, worker.email, "ADMIN")
    admin = (await kili.get_current_user()).email
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await manager.delete_from_roles(user_email=admin, project_id=project_id)
    with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
        await manager.append_to_roles(project_id, email("stranger"))  # inviting: org ADMINs
    assert await manager.delete_from_roles(user_email=worker.email, project_id=project_id)


async def test_a_user_outside_the_project_does_not_see_it(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id = await new_project(kili)
    outsider = await kili_user()
    with pytest.raises(NotFoundError, match=project_id):
        await outsider.get_project(project_id)
    assert await outsider.count_projects(project_id=project_id) == 0
    own = await outsider.create_project(
        title="mine", input_type="TEXT", json_interface={"jobs": {}}
    )
    assert [p.id for p in await outsider.projects()] == [own.id]  # a USER creates projects
    assert [f"{m.role}" for m in await outsider.project_users(own.id)] == ["ADMIN"]
    await outsider.delete_project(own.id)  # and deletes their own


async def test_every_listing_takes_as_generator(kili: aiokili.AsyncKili) -> None:
    project_id = await new_project(kili)
    assert [p.id for p in await kili.projects(project_id=project_id, as_generator=True)] == [
        project_id
    ]
    assert await kili.issues(project_id, as_generator=True) == []
    assert len(await kili.project_users(project_id, as_generator=False)) == 1


async def test_a_reviewer_reviews_and_a_labeler_may_not(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id = await new_project(kili)
    reviewer = await kili_user(role="REVIEWER", project_id=project_id)
    labeler = await kili_user(role="LABELER", project_id=project_id)
    asset_ids = await import_images(kili, project_id, 2)
    written = await labeler.append_labels(
        asset_id_array=asset_ids, json_response_array=[answer("A"), answer("B")]
    )
    assert len(await reviewer.labels(project_id)) == 2  # a reviewer reads every label
    outcome = await reviewer.add_to_review(asset_ids, project_id=project_id)
    assert len(outcome.succeeded) == 2
    reviewed = await reviewer.append_labels(
        asset_id_array=asset_ids[:1], json_response_array=[answer("B")], label_type="REVIEW"
    )
    assert len(reviewed) == 1
    with pytest.raises(BulkOperationError) as caught:
        await labeler.append_labels(
            asset_id_array=asset_ids[1:], json_response_array=[answer("A")], label_type="REVIEW"
        )
    assert "needs the project role REVIEWER or above" in str(caught.value.failures[0].error)
    with pytest.raises(PermissionDeniedError, match="TEAM_MANAGER"):
        await reviewer.append_to_roles(project_id, email("helper"))
    assert [label.id for label in await labeler.labels(project_id)] == written
