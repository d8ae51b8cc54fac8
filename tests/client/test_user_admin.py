"""Users of an organization against the real local server: creation, updates, activation
(a deactivated user's keys are refused at once), passwords, who may do what, metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili import (
    AuthenticationError,
    KiliInputError,
    NotFoundError,
    OrganizationMetrics,
    OrganizationRole,
    PermissionDeniedError,
    UserProfile,
)
from aiokili.server import LocalServer
from aiokili.testing import UserFactory

pytestmark = pytest.mark.anyio


def email(name: str) -> str:
    return f"{name}-{id(name)}@users.test"


async def test_create_user_then_update_it(kili: aiokili.AsyncKili) -> None:
    address = email("carol")
    created = await kili.create_user(address.upper(), "s3cret-pass", "USER", firstname="Carol")
    assert isinstance(created, UserProfile)
    assert (created.email, created.firstname, created.organization_role) == (
        address, "Carol", OrganizationRole.USER,
    )  # fmt: skip
    assert created.organization_id == (await kili.get_current_user()).organization_id
    assert [u.id for u in await kili.users(email=address)] == [created.id]
    updated = await kili.update_properties_in_user(
        address, firstname="Caroline", lastname="C", organization_role="ADMIN"
    )
    assert (updated.firstname, updated.lastname) == ("Caroline", "C")
    assert updated.organization_role is OrganizationRole.ADMIN
    assert (
        await kili.update_properties_in_user(address, organization_role="USER")
    ).organization_role is OrganizationRole.USER
    with pytest.raises(aiokili.InvalidRequestError, match="already exists"):
        await kili.create_user(address, "s3cret-pass", "USER")
    with pytest.raises(NotFoundError, match="nobody"):
        await kili.update_properties_in_user(email("nobody"), firstname="x")


async def test_a_deactivated_users_keys_are_refused_at_once(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    user = await kili_user()
    me = await user.get_current_user()
    assert await user.count_projects() >= 0
    assert not (await kili.update_properties_in_user(me.email, activated=False)).activated
    with pytest.raises(AuthenticationError, match="deactivated"):
        await user.count_projects()
    assert me.id in [u.id for u in await kili.users(activated=False)]
    await kili.update_properties_in_user(me.email, activated=True)
    assert await user.count_projects() >= 0


async def test_a_user_changes_their_own_names_and_password_only(
    kili: aiokili.AsyncKili, local_server: LocalServer
) -> None:
    account = local_server.create_user(email("dave"), password="first-pass")
    async with aiokili.AsyncKili(api_key=account.api_key, api_endpoint=local_server.url) as dave:
        assert (
            await dave.update_properties_in_user(account.email, firstname="Dave")
        ).firstname == "Dave"
        changed = await dave.update_password(
            account.email, "first-pass", "second-pass", "second-pass"
        )
        assert changed.id == account.user_id
        with pytest.raises(PermissionDeniedError, match="oldPassword"):
            await dave.update_password(account.email, "first-pass", "third-pass", "third-pass")
        with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
            await dave.update_properties_in_user(account.email, organization_role="ADMIN")
        with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
            await dave.update_properties_in_user(account.email, activated=False)
        admin = (await kili.get_current_user()).email
        with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
            await dave.update_properties_in_user(admin, firstname="Mallory")
        with pytest.raises(PermissionDeniedError, match="your own password"):
            await dave.update_password(admin, "x", "another-pass", "another-pass")
        with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
            await dave.create_user(email("eve"), "s3cret-pass", "USER")
    with pytest.raises(PermissionDeniedError, match="your own password"):
        await kili.update_password(account.email, "second-pass", "x-pass-123", "x-pass-123")


async def test_an_organization_keeps_an_active_admin(kili: aiokili.AsyncKili) -> None:
    me = await kili.get_current_user()
    with pytest.raises(aiokili.InvalidRequestError, match="deactivate yourself"):
        await kili.update_properties_in_user(me.email, activated=False)


async def test_the_last_admin_of_an_organization_stays(
    kili_other_organization: aiokili.AsyncKili,
) -> None:
    me = await kili_other_organization.get_current_user()
    with pytest.raises(aiokili.InvalidRequestError, match="last activated ADMIN"):
        await kili_other_organization.update_properties_in_user(me.email, organization_role="USER")


async def test_user_arguments_are_checked_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(KiliInputError, match="organization_role must be ADMIN or USER"):
        await kili.create_user("a@b.c", "pass-word", "LABELER")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="email must be an email"):
        await kili.create_user("nobody", "pass-word", "USER")
    with pytest.raises(KiliInputError, match="activated must be True or False"):
        await kili.update_properties_in_user("a@b.c", activated="no")  # type: ignore[arg-type]
    with pytest.raises(KiliInputError, match="differ"):
        await kili.update_password("a@b.c", "old-pass", "new-pass-1", "new-pass-2")


async def test_organization_metrics_count_the_labels_of_a_period(kili: aiokili.AsyncKili) -> None:
    organization = (await kili.get_current_user()).organization_id
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    project_id = await new_project(kili)
    asset_ids = await import_images(kili, project_id, 3)
    await kili.append_labels(
        asset_id_array=asset_ids[:2],
        json_response_array=[answer("A"), answer("B")],
        seconds_to_label_array=[1800, 1800],
    )
    metrics = await kili.organization_metrics(organization, start_date=start)
    assert isinstance(metrics, OrganizationMetrics)
    assert metrics.number_of_labeled_assets >= 2 and metrics.number_of_annotations >= 2
    assert metrics.number_of_hours >= 1.0
    before = await kili.organization_metrics(
        organization, start - timedelta(days=2), start - timedelta(days=1)
    )
    assert (before.number_of_labeled_assets, before.number_of_hours) == (0, 0.0)
    with pytest.raises(KiliInputError, match="after end_date"):
        await kili.organization_metrics(
            organization, start_date=start, end_date=start - timedelta(days=1)
        )
    with pytest.raises(NotFoundError):
        await kili.organization_metrics("another-organization")


async def test_only_an_organization_admin_reads_its_metrics(kili_user: UserFactory) -> None:
    user = await kili_user()
    organization = (await user.get_current_user()).organization_id
    with pytest.raises(PermissionDeniedError, match="organization role ADMIN"):
        await user.organization_metrics(organization)


async def test_a_user_lists_itself_and_the_members_of_its_projects(
    kili: aiokili.AsyncKili, kili_user: UserFactory
) -> None:
    project_id = await new_project(kili)
    labeler = await kili_user(role="LABELER", project_id=project_id)
    loner = await kili_user()
    admin, me = await kili.get_current_user(), await labeler.get_current_user()
    assert {u.email for u in await labeler.users(as_generator=True)} == {admin.email, me.email}
    assert [u.email for u in await loner.users()] == [(await loner.get_current_user()).email]
    assert await loner.count_users(email=admin.email) == 0
    assert [o.id for o in await labeler.organizations(as_generator=True)] == [me.organization_id]
