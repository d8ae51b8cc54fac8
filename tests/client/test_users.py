"""Users and organizations look-ups against a real local server with two organizations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

import aiokili
from aiokili import KiliInputError, Organization, OrganizationRole, UserProfile
from aiokili.server import LocalServer

pytestmark = pytest.mark.anyio


@dataclass
class World:
    server: LocalServer
    org: str
    admin: str
    colleague: str
    other_org: str
    stranger: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """A server whose key's organization has 2 members, plus another organization."""
    with LocalServer() as server:
        users = server.store.users
        with server.store.db.read() as c:
            admin, org = c.execute("SELECT id, organization_id FROM users").fetchone()
        colleague = users.create_user(org, "bob@aiokili.local", "USER", "Bob", "Builder")
        other = users.create_organization("elsewhere")
        stranger = users.create_user(other.id, "eve@else.where", "ADMIN", "Eve")
        yield World(server, org, admin, colleague.id, other.id, stranger.id)


@pytest.fixture
async def kili(world: World) -> AsyncIterator[aiokili.AsyncKili]:
    async with aiokili.AsyncKili(
        api_key=world.server.api_key, api_endpoint=world.server.url, page_size=1
    ) as client:
        yield client


async def test_users_are_the_members_of_the_keys_organization(
    kili: aiokili.AsyncKili, world: World
) -> None:
    users = await kili.users()  # pages of 1
    assert [u.id for u in users] == [world.admin, world.colleague]  # oldest first; not Eve
    admin = users[0]
    assert isinstance(admin, UserProfile)
    assert admin.email == "admin@aiokili.local" and admin.firstname == "Ada"
    assert admin.organization_id == world.org
    assert admin.activated is True and admin.organization_role is OrganizationRole.ADMIN
    assert admin.created_at is not None
    assert await kili.count_users() == 2


async def test_user_filters(kili: aiokili.AsyncKili, world: World) -> None:
    async def ids(**filters: object) -> list[str]:
        listed = [u.id for u in await kili.users(**filters)]  # type: ignore[arg-type]
        assert len(listed) == await kili.count_users(**filters)  # type: ignore[arg-type]
        return listed

    assert await ids(email="bob@aiokili.local") == [world.colleague]
    assert await ids(email="BOB@aiokili.local") == [world.colleague]  # emails are lowercase
    assert await ids(email="eve@else.where") == []  # another organization's
    assert await ids(organization_id=world.org) == [world.admin, world.colleague]
    assert await ids(organization_id=world.other_org) == []
    assert await ids(api_key=world.server.api_key) == [world.admin]
    assert await ids(api_key="not-a-key") == []
    assert await ids(user_id=world.colleague) == [world.colleague]
    assert await ids(id_in=[world.colleague, world.stranger]) == [world.colleague]
    assert await ids(activated=True) == [world.admin, world.colleague]
    assert await ids(activated=False) == []
    assert await ids(organization_id=world.org, email="admin@aiokili.local") == [world.admin]


async def test_users_paging_and_fields(kili: aiokili.AsyncKili, world: World) -> None:
    assert [u.id for u in await kili.users(skip=1)] == [world.colleague]
    assert [u.id for u in await kili.users(first=1)] == [world.admin]
    narrow = await kili.users(fields=["email"])
    assert [u.email for u in narrow] == ["admin@aiokili.local", "bob@aiokili.local"]
    with pytest.raises(AttributeError, match="add 'firstname' to fields="):
        _ = narrow[1].firstname  # not selected
    assert await kili.users(email="bob@aiokili.local").count() == 1


async def test_get_current_user(kili: aiokili.AsyncKili, world: World) -> None:
    me = await kili.get_current_user()
    assert isinstance(me, UserProfile)
    assert (me.id, me.email, me.organization_id) == (world.admin, "admin@aiokili.local", world.org)
    assert (await kili.get_current_user(fields=["id", "email"])).id == world.admin
    with pytest.raises(KiliInputError, match="Unknown field 'password'"):
        await kili.get_current_user(fields=["password"])
    with pytest.raises(KiliInputError, match="fields= takes a list"):
        await kili.get_current_user(fields="email")


async def test_organizations(kili: aiokili.AsyncKili, world: World) -> None:
    (org,) = await kili.organizations()
    assert isinstance(org, Organization)
    assert (org.id, org.name) == (world.org, "aiokili")
    assert org.license is not None and org.license.upload_local_data is True
    assert await kili.count_organizations() == 1
    assert [o.id for o in await kili.organizations(email="bob@aiokili.local")] == [world.org]
    assert await kili.count_organizations(email="eve@else.where") == 0  # not visible
    assert await kili.count_organizations(organization_id=world.org) == 1
    assert await kili.organizations(organization_id=world.other_org) == []
    assert [o.name for o in await kili.organizations(fields=["name"])] == ["aiokili"]


async def test_bad_filters_fail_before_any_request(kili: aiokili.AsyncKili) -> None:
    with pytest.raises(KiliInputError, match=r"unknown filter.*role"):
        kili.users(role="ADMIN")  # type: ignore[call-arg]
    with pytest.raises(KiliInputError, match="email"):
        await kili.count_users(email=3)  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="id_in"):
        kili.users(id_in="u-1")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="activated"):
        kili.users(activated="yes")  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match="organization_id"):
        await kili.count_organizations(organization_id=1)  # type: ignore[typeddict-item]
    with pytest.raises(KiliInputError, match=r"unknown filter.*name"):
        kili.organizations(name="x")  # type: ignore[call-arg]
    with pytest.raises(KiliInputError, match="first"):
        kili.users(first=-1)
    with pytest.raises(KiliInputError, match="Unknown field 'users'"):
        kili.organizations(fields=["users"])
