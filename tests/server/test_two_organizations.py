"""Two organizations on one server: every root query and mutation of the schema, called by
the first organization's ADMIN with an id of the second's, answers "not found" and never
with its data; keys are stored hashed.

The documents are made from the schema and from the permission table
(``server/permissions.py``): for each place a rule reads an id, one call puts there an id of
the other organization (and ids of the caller's own organization everywhere else).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)

import aiokili
from aiokili.server import LocalServer
from aiokili.server.permissions import RULES
from aiokili.server.schema import build_schema

SCHEMA = build_schema()
SECRET = "b-secret"  # in every name, title, email and text of the other organization
INTERFACE = json.dumps(
    {"jobs": {"JOB": {"mlTask": "CLASSIFICATION", "required": 1, "isChild": False,
                      "content": {"input": "radio", "categories": {"A": {"name": "A"}}}},
              "NOTE": {"mlTask": "TRANSCRIPTION", "required": 0, "isChild": False,
                       "content": {"input": "textField"}}}}
)  # fmt: skip


def call(server: LocalServer, key: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        server.url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"X-API-Key: {key}"},
        timeout=60,
    )
    body: dict[str, Any] = response.json()
    return body


def data(server: LocalServer, key: str, query: str, **variables: Any) -> Any:
    body = call(server, key, query, **variables)
    assert not body.get("errors"), body
    return body["data"]["data"]


@dataclass
class Organization:
    """One organization's key and an object of each kind the permission table names."""

    key: str
    ids: dict[str, str] = field(default_factory=dict)


def populate(server: LocalServer, key: str, prefix: str, member_email: str) -> Organization:
    """A project with a member, assets, a label, an issue; a tag, a plugin, a notification."""
    org = Organization(key)
    q = lambda query, **v: data(server, key, query, **v)  # noqa: E731
    project = q(
        "mutation($d: CreateProjectData!) { data: createProject(data: $d) { id } }",
        d={"title": f"{prefix} project", "inputType": "IMAGE", "jsonInterface": INTERFACE},
    )["id"]
    assets = q(
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ data: appendManyAssets(data: $d, where: $w) { id } }",
        d={"contentArray": ["https://img.example/1.jpg", "https://img.example/2.jpg"],
           "externalIDArray": [f"{prefix}-ext-1", f"{prefix}-ext-2"],
           "jsonMetadataArray": [json.dumps({"note": f"{prefix} metadata"})] * 2},
        w={"id": project},
    )  # fmt: skip
    label = q(
        "mutation($d: AppendManyLabelsData!, $w: AssetWhere!) "
        "{ data: appendManyLabels(data: $d, where: $w) { id } }",
        d={"labelType": "DEFAULT", "labelsData": [{"assetID": assets[0]["id"], "jsonResponse":
           json.dumps({"JOB": {"categories": [{"name": "A"}]}, "NOTE": {"text": f"{prefix} answer"}})}]},
        w={"project": {"id": project}},
    )[0]["id"]  # fmt: skip
    issue = q(
        "mutation($i: [IssueToCreate!]!, $w: AssetWhere!) "
        "{ data: createIssues(issues: $i, where: $w) { id } }",
        i=[{"type": "ISSUE", "labelID": label, "text": f"{prefix} issue"}],
        w={"project": {"id": project}},
    )[0]["id"]
    member = q(
        "mutation($d: AppendToRolesData!, $w: ProjectWhere!) "
        "{ data: appendToRoles(data: $d, where: $w) { roles { id user { email } } } }",
        d={"role": "LABELER", "userEmail": member_email},
        w={"id": project},
    )["roles"]
    tag = q(
        "mutation($d: TagData!) { data: createTag(data: $d) { id } }", d={"label": f"{prefix} tag"}
    )["id"]
    q("mutation($d: CreatePluginData!) { data: createPlugin(data: $d) }",
      d={"pluginName": f"{prefix}-plugin"})  # fmt: skip
    plugin_id = q("{ data: listPlugins { id name } }")[0]["id"]
    notification = q(
        "mutation($d: AppendManyAssetsAsynchronouslyData!, $w: ProjectWhere!) "
        "{ data: appendManyAssetsAsynchronously(data: $d, where: $w) { id } }",
        d={"contentArray": ["https://img.example/3.jpg"], "externalIDArray": [f"{prefix}-ext-3"],
           "uploadType": "GEO_SATELLITE"},
        w={"id": project},
    )["id"]  # fmt: skip
    me = q("{ data: viewer { id email organizationId } }")
    org.ids = {
        "Project": project,
        "Asset": assets[0]["id"],
        "Label": label,
        "Issue": issue,
        "ProjectUser": next(m["id"] for m in member if m["user"]["email"] == member_email),
        "ProjectVersion": f"{prefix}-version",  # no versions are made yet: absent everywhere
        "Organization": me["organizationId"],
        "User": me["id"],
        "UserEmail": me["email"],
        "UserRef": me["email"],
        "Plugin": f"{prefix}-plugin",
        "PluginId": plugin_id,
        "Tag": tag,
        "Notification": notification,
    }
    return org


@dataclass
class World:
    server: LocalServer
    mine: Organization
    theirs: Organization


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with LocalServer() as server:
        server.create_user("a-member@a.test")
        other = server.create_organization(f"{SECRET} organization", f"admin@{SECRET}.test")
        server.create_user(f"member@{SECRET}.test", organization_id=other.organization_id)
        mine = populate(server, server.api_key, "a", "a-member@a.test")
        theirs = populate(server, other.api_key, SECRET, f"member@{SECRET}.test")
        yield World(server, mine, theirs)


# ------------------------------------------------------------------ documents from the schema
_SCALARS: dict[str, Any] = {
    "ID": "dummy", "String": "dummy", "Int": 1, "Float": 1.0, "Boolean": False, "JSON": {},
    "JSONString": "{}", "DateTime": "2024-01-01T00:00:00Z", "PageSize": 10,
}  # fmt: skip


def _value(kind: GraphQLInputType, path: str, fill: dict[str, str]) -> Any:
    """A value of ``kind`` at ``path``: the id ``fill`` gives there, else a dummy one, with
    the input fields that are required or lead to a filled path."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type, path + "[]", fill)]
    if path in fill:
        return fill[path]
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: _value(f.type, f"{path}.{name}", fill)
            for name, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull)
            or any(p.startswith(f"{path}.{name}") for p in fill)
        }
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    assert isinstance(kind, GraphQLScalarType)
    return _SCALARS[kind.name]


def _selection(kind: Any) -> str:
    named = get_named_type(kind)
    if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "id" in named.fields:
        return "{ id }"
    for name, f in named.fields.items():
        inner = get_named_type(f.type)
        if isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
            return "{ " + name + " }"
        if isinstance(inner, GraphQLObjectType) and not f.args:
            return "{ " + name + " " + _selection(inner) + " }"
    return "{ __typename }"


def document(key: str, fill: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The operation calling root field ``key`` with the ids of ``fill`` at their paths."""
    root_name, name = key.split(".")
    root = SCHEMA.get_type(root_name)
    assert isinstance(root, GraphQLObjectType)
    target = root.fields[name]
    variables = {
        arg: _value(a.type, arg, fill)
        for arg, a in target.args.items()
        if isinstance(a.type, GraphQLNonNull)
        or any(p.split(".")[0].removesuffix("[]") == arg for p in fill)
    }
    declared = ", ".join(f"${arg}: {target.args[arg].type}" for arg in variables)
    passed = ", ".join(f"{arg}: ${arg}" for arg in variables)
    operation = root_name.lower()
    head = f"{operation}({declared})" if declared else operation
    body = f"{name}({passed})" if passed else name
    return f"{head} {{ data: {body} {_selection(target.type)} }}", variables


# ------------------------------------------------------------------ the walk
def _id_calls() -> list[tuple[str, int]]:
    """(root field, index of the Find filled with the other organization's id)."""
    return [
        (key, index)
        for key, rule in sorted(RULES.items())
        if not key.startswith("Subscription.")
        for index, find in enumerate(rule.find)
    ]


def _leaks(body: dict[str, Any], sent: Any = ()) -> bool:
    """Whether the answer holds anything of the other organization but the ids it was sent."""
    text = json.dumps(body)
    for value in sent:
        text = text.replace(json.dumps(value)[1:-1], "")
    return SECRET in text


@pytest.mark.parametrize(("key", "index"), _id_calls())
def test_an_id_of_the_other_organization_is_not_found(world: World, key: str, index: int) -> None:
    rule = RULES[key]
    theirs = rule.find[index]
    fill = {f.path: world.mine.ids[f.kind] for f in rule.find}
    fill[theirs.path] = world.theirs.ids[theirs.kind]
    query, variables = document(key, fill)
    body = call(world.server, world.mine.key, query, **variables)
    assert not _leaks(body, [world.theirs.ids[theirs.kind]]), (query, body)
    if theirs.missing_ok:  # treated as absent: reported in an outcome, never acted on
        return
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or ()]
    assert codes[:1] == ["NOT_FOUND"], (query, variables, body)
    assert world.theirs.ids[theirs.kind] in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "key", sorted(k for k, r in RULES.items() if not r.find and not k.startswith("Subscription."))
)
def test_a_call_naming_no_id_shows_nothing_of_the_other_organization(
    world: World, key: str
) -> None:
    query, variables = document(key, {})
    body = call(world.server, world.mine.key, query, **variables)
    assert not _leaks(body), (query, body)


LISTINGS = [  # (root field, where as the other organization's ids fill it)
    ("Query.projects", {"where.id": "Project"}),
    ("Query.countProjects", {"where.id": "Project"}),
    ("Query.projects", {"where.organizationId": "Organization"}),
    ("Query.assets", {"where.id": "Asset"}),
    ("Query.countAssets", {"where.idIn[]": "Asset"}),
    ("Query.labels", {"where.id": "Label"}),
    ("Query.countLabels", {"where.asset.id": "Asset"}),
    ("Query.issues", {"where.id": "Issue"}),
    ("Query.countIssues", {"where.assetIn[]": "Asset"}),
    ("Query.users", {"where.id": "User"}),
    ("Query.countUsers", {"where.email": "UserEmail"}),
    ("Query.users", {"where.organization.id": "Organization"}),
    ("Query.organizations", {"where.id": "Organization"}),
    ("Query.countOrganizations", {"where.user.email": "UserEmail"}),
    ("Query.notifications", {"where.id": "Notification"}),
    ("Query.countNotifications", {"where.id": "Notification"}),
    ("Query.apiKeys", {"where.user.id": "User"}),
    ("Query.listTagsByOrg", {}),
    ("Query.listPlugins", {}),
    ("Query.projectUsers", {}),
]


@pytest.mark.parametrize(("key", "where"), LISTINGS)
def test_a_listing_filtered_by_the_other_organizations_ids_is_empty(
    world: World, key: str, where: dict[str, str]
) -> None:
    sent = {path: world.theirs.ids[kind] for path, kind in where.items()}
    query, variables = document(key, sent)
    body = call(world.server, world.mine.key, query, **variables)
    assert not body.get("errors") and not _leaks(body, sent.values()), (query, body)
    if where:
        assert body["data"]["data"] in ([], 0), (query, body)


def test_the_other_organization_kept_everything(world: World) -> None:
    # runs after the walk (pytest keeps the module's order): nothing of theirs changed
    theirs = world.theirs
    q = lambda query, **v: data(world.server, theirs.key, query, **v)  # noqa: E731
    project = {"id": theirs.ids["Project"]}
    assert q("query($w: ProjectWhere!) { data: projects(where: $w) { title } }", w=project) == [
        {"title": f"{SECRET} project"}
    ]
    assert q("query($w: AssetWhere!) { data: countAssets(where: $w) }", w={"project": project}) >= 2
    labels = q("query($w: LabelWhere!) { data: labels(where: $w) { id } }", w={"project": project})
    assert labels == [{"id": theirs.ids["Label"]}]
    assert q("query($w: IssueWhere!) { data: countIssues(where: $w) }", w={"project": project}) == 1
    members = q("query($w: ProjectUserWhere!) { data: countProjectUsers(where: $w) }",
                w={"project": project})  # fmt: skip
    assert members == 2
    assert [t["id"] for t in q("{ data: listTagsByOrg { id } }")] == [theirs.ids["Tag"]]
    assert [p["name"] for p in q("{ data: listPlugins { name } }")] == [f"{SECRET}-plugin"]


def test_the_label_subscription_of_another_organizations_project_is_not_found(
    world: World,
) -> None:
    async def subscribe() -> None:
        async with aiokili.AsyncKili(api_key=world.mine.key, api_endpoint=world.server.url) as kili:
            async with kili.label_created_or_updated(world.theirs.ids["Project"]) as labels:
                async for _ in labels:
                    break

    with pytest.raises(aiokili.NotFoundError, match=world.theirs.ids["Project"]):
        anyio.run(subscribe)


def test_api_keys_are_stored_hashed(tmp_path: Path) -> None:
    db = tmp_path / "kili.sqlite3"
    with LocalServer(db=str(db), api_key="a-key-of-my-choice-1234") as server:
        keys = [server.api_key, server.create_user("k@keys.test").api_key,
                server.create_organization("keys", "boss@keys.test").api_key,
                server.create_api_key("k@keys.test")]  # fmt: skip
        assert data(server, keys[1], "{ data: viewer { email } }") == {"email": "k@keys.test"}
        assert data(server, keys[1], "{ data: apiKeys(where: {}) { key name } }") == [
            {"key": None, "name": "api key"}, {"key": None, "name": "api key"},
        ]  # fmt: skip
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("kili.sqlite3*") if p.is_file())
    for key in keys:
        assert key.encode() not in stored
    with sqlite3.connect(db) as c:  # what is kept instead: the hashes
        hashes = {r[0] for r in c.execute("SELECT key_hash FROM api_keys")}
    from aiokili.server.store.users import hash_key

    assert {hash_key(k) for k in keys} <= hashes
