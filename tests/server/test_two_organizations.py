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
    steps = q("query($w: ProjectWhere!) { data: projects(where: $w) { steps { id } } }",
              w={"id": project})[0]["steps"]  # fmt: skip
    upload = q("query($p: [String!]) { data: createUploadBucketSignedUrls(filePaths: $p) }",
               p=[f"{prefix}.txt"])[0]  # fmt: skip
    assert httpx.put(upload, content=f"{prefix} file".encode()).status_code == 200
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
        "Step": steps[0]["id"],
        "File": upload,  # a signed PUT URL: its path is the file's key
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


# ------------------------------------------------------------------ every id the schema takes
# Ids the permission table does not read (filters inside a where it scopes, references in
# the data of a mutation): each input field, found in the schema, names the kind of object it
# takes (None: an object the local server does not keep; its fields answer NOT_IMPLEMENTED).
# A new field taking an id fails test_every_id_argument_of_the_schema_has_a_case until it is
# named here, and is then walked with the other organization's object.
REFERENCES: dict[str, str | None] = {
    "AssetWhere.id": "Asset", "AssetWhere.idIn": "Asset", "AssetWhere.idNotIn": "Asset",
    "AssetWhere.stepIdIn": "Step", "AssetWhere.stepIdNotIn": "Step",
    "StepIdAndStatus.stepId": "Step",
    "LabelWhere.id": "Label", "LabelWhere.idIn": "Label",
    "IssueWhere.id": "Issue", "IssueWhere.assetIn": "Asset",
    "NotificationWhere.id": "Notification",
    "ProjectWhere.id": "Project", "ProjectWhere.organizationId": "Organization",
    "ProjectWhere.tagIds": "Tag",
    "ProjectUserUserWhere.email": "UserEmail",
    "UserWhere.id": "User", "UserWhere.idIn": "User", "UserWhere.email": "UserEmail",
    "OrganizationIdWhere.id": "Organization", "OrganizationWhere.id": "Organization",
    "UserEmailWhere.email": "UserEmail",
    "ApiKeyWhere.id": "User", "ApiKeyUserWhere.id": "User",
    "AppendLabelData.referencedLabelId": "Label", "AppendManyLabelsData.stepId": "Step",
    "AppendManyAssetsData.idArray": "Asset",
    "AppendManyAssetsAsynchronouslyData.idArray": "Asset",
    "AppendToRolesData.userEmail": "UserEmail",
    "CreateUserData.email": "UserEmail", "UserData.email": "UserEmail",
    "UserData.organizationId": "Organization",
    "AddReviewStepInput.sendBackStepId": "Step", "AddReviewStepInput.stepGroupId": "Step",
    "UpdateLabelingStepPropertiesInput.stepId": "Step",
    "UpdateReviewStepPropertiesInput.stepId": "Step",
    "UpdateReviewStepPropertiesInput.sendBackStepId": "Step",
    "DeleteStepInput.stepId": "Step", "RenameStepInput.stepId": "Step",
    "WorkflowStepInput.id": "Step", "WorkflowStepInput.sendBackStepId": "Step",
    "WorkflowStepInput.stepGroupId": "Step", "WorkflowStepsInput.deletes": "Step",
    "CreateChatItemData.labelId": "Label", "CreateChatItemData.parentId": None,
    "Query.annotationFileUrl.fileId": None,  # checked within the asset the rule reads
    "Query.model.id": None, "Mutation.updateModel.id": None, "Mutation.deleteModel.id": None,
    "CreateProjectModelInput.modelId": None, "ProjectModelWhere.modelId": None,
    "Mutation.updateProjectModel.id": None, "Mutation.deleteProjectModel.id": None,
    "DataConnectionIdWhere.id": None, "DataConnectionInput.integrationId": None,
    "DataConnectionsWhere.integrationId": None, "DataIntegrationData.allowedProjects": None,
    "DataIntegrationWhere.id": None, "DataIntegrationWhere.integrationId": None,
    "DataIntegrationWhere.projectId": "Project",
    "ValidateDataDifferencesWhere.connectionId": None,
    "EventPagination.fromEventId": None, "EventPagination.untilEventId": None,
}  # fmt: skip
_ID_NAMES = {"email", "userEmail", "organizationId", "fileId"}  # ids typed String


def _id_arguments() -> dict[str, list[tuple[str, str]]]:
    """``{"AssetWhere.idIn": [(root field, argument path), ...]}`` for every argument leaf
    of the schema that takes an id and that no rule of the permission table reads."""
    found: dict[str, list[tuple[str, str]]] = {}

    def walk(key: str, kind: Any, path: str, owner: str, depth: int) -> None:
        if isinstance(kind, (GraphQLNonNull, GraphQLList)):
            suffix = "[]" if isinstance(kind, GraphQLList) else ""
            walk(key, kind.of_type, path + suffix, owner, depth)
        elif isinstance(kind, GraphQLInputObjectType):
            if depth < 4:  # AND / OR nest the same inputs again
                for name, f in kind.fields.items():
                    walk(key, f.type, f"{path}.{name}", f"{kind.name}.{name}", depth + 1)
        elif kind.name == "ID" or owner.rpartition(".")[2] in _ID_NAMES:
            if path not in {f.path for f in RULES[key].find}:
                found.setdefault(owner, []).append((key, path))

    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root is not None
        for name, target in root.fields.items():
            key = f"{root.name}.{name}"
            for arg, a in target.args.items():
                walk(key, a.type, arg, f"{key}.{arg}", 0)
    return found


ID_ARGUMENTS = _id_arguments()


def test_every_id_argument_of_the_schema_has_a_case() -> None:
    missing = sorted(set(ID_ARGUMENTS) - set(REFERENCES))
    assert not missing, f"name the kind of object each takes in REFERENCES: {missing}"
    stale = sorted(set(REFERENCES) - set(ID_ARGUMENTS))
    assert not stale, f"REFERENCES names fields the schema no longer has: {stale}"


def _reference_calls() -> list[tuple[str, str, str]]:
    """(input field, root field, path): each field once, through a query where one takes it."""
    calls = []
    for owner, uses in sorted(ID_ARGUMENTS.items()):
        key, path = min(uses, key=lambda u: (u[0].startswith("Mutation."), u[1].count("."), u))
        calls.append((owner, key, path))
    return calls


_EMPTY: list[Any] = [None, [], 0, False, {}]


@pytest.mark.parametrize(("owner", "key", "path"), _reference_calls())
def test_an_id_of_the_other_organization_in_any_argument_finds_nothing(
    world: World, owner: str, key: str, path: str
) -> None:
    kind = REFERENCES[owner]
    theirs = world.theirs.ids[kind] if kind else f"{SECRET}-unknown"
    fill = {f.path: world.mine.ids[f.kind] for f in RULES[key].find if f.required}
    fill[path] = theirs
    query, variables = document(key, fill)
    body = call(world.server, world.mine.key, query, **variables)
    assert not _leaks(body, [theirs]), (query, variables, body)
    if owner.endswith("NotIn") or owner == "WorkflowStepsInput.deletes":
        return  # excludes (or deletes) within the caller's own project: nothing of theirs
    if key.startswith("Query."):
        assert body.get("errors") or body["data"]["data"] in _EMPTY, (query, variables, body)
    else:  # a mutation referring to an object of theirs is refused
        assert body.get("errors"), (query, variables, body)


# ------------------------------------------------------------------ subscriptions
async def _subscribe(server: LocalServer, key: str, query: str, variables: Any) -> Any:
    """The first message a subscription gets (its error, or its first event)."""
    from websockets.asyncio.client import connect

    url = server.url.replace("http", "ws", 1)
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"X-API-Key: {key}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": query, "variables": variables}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        with anyio.fail_after(30):
            return json.loads(await ws.recv())


SUBSCRIPTIONS = sorted(k for k in RULES if k.startswith("Subscription."))


@pytest.mark.parametrize("key", SUBSCRIPTIONS)
def test_a_subscription_to_an_object_of_the_other_organization_is_not_found(
    world: World, key: str
) -> None:
    finds = RULES[key].find
    assert finds, f"{key} names no object: give it a case here"
    for index, theirs in enumerate(finds):
        fill = {f.path: world.mine.ids[f.kind] for f in finds}
        fill[theirs.path] = world.theirs.ids[theirs.kind]
        query, variables = document(key, fill)
        message = anyio.run(_subscribe, world.server, world.mine.key, query, variables)
        payload = message["payload"]  # an "error", or a "next" carrying errors
        errors = payload if message["type"] == "error" else payload.get("errors")
        assert errors and errors[0]["extensions"]["code"] == "NOT_FOUND", (index, message)
        assert not _leaks(message, [world.theirs.ids[theirs.kind]])


# ------------------------------------------------------------------ files, exports, logs
def test_a_file_of_the_other_organization_is_not_found_with_the_api_key(world: World) -> None:
    theirs = world.theirs.ids["File"].split("&")[0] + "&"  # its path, without the signature
    headers = {"Authorization": f"X-API-Key: {world.mine.key}"}
    mine = world.mine.ids["File"].split("&")[0] + "&"
    assert httpx.get(mine, headers=headers).content == b"a file"
    answer = httpx.get(theirs, headers=headers)
    assert answer.status_code == 404 and f"{SECRET} file" not in answer.text, answer.text
    owner = {"Authorization": f"X-API-Key: {world.theirs.key}"}
    assert httpx.get(theirs, headers=owner).content == f"{SECRET} file".encode()
    put = httpx.put(theirs, content=b"overwritten", headers=headers)
    assert put.status_code == 403
    assert httpx.get(theirs, headers=owner).content == f"{SECRET} file".encode()


def test_an_asset_naming_a_file_of_the_other_organization_gets_no_url_to_it(
    world: World,
) -> None:
    theirs = world.theirs.ids["File"]  # their signed upload URL, as if it had leaked
    unsigned = theirs.split("&")[0] + "&id=x"  # or only its path
    forged = theirs.replace("owner=", f"owner={world.mine.ids['Organization']}&x=")
    project = {"id": world.mine.ids["Project"]}
    created = data(
        world.server, world.mine.key,
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ data: appendManyAssets(data: $d, where: $w) { id content } }",
        d={"contentArray": [theirs, unsigned, forged],
           "externalIDArray": ["leak-1", "leak-2", "leak-3"]}, w=project,
    )  # fmt: skip
    for asset in created:
        got = httpx.get(asset["content"])  # without a key: what the URL itself grants
        assert f"{SECRET} file" not in got.text and got.status_code == 403, asset["content"]
        assert "method=GET" not in asset["content"]  # not signed again for them
    [own] = data(
        world.server, world.mine.key,
        "mutation($d: AppendManyAssetsData!, $w: ProjectWhere!) "
        "{ data: appendManyAssets(data: $d, where: $w) { content } }",
        d={"contentArray": [world.mine.ids["File"]], "externalIDArray": ["own-file"]}, w=project,
    )  # fmt: skip
    assert httpx.get(own["content"]).content == b"a file"  # their own: a fresh GET URL


def test_exports_and_plugin_logs_of_the_other_organization_are_not_found(
    world: World, tmp_path: Path
) -> None:
    project = world.theirs.ids["Project"]

    async def main() -> None:
        async with aiokili.AsyncKili(api_key=world.mine.key, api_endpoint=world.server.url) as kili:
            with pytest.raises(aiokili.NotFoundError, match=project):
                await kili.export_labels(project, tmp_path / "x.zip", "kili")
            with pytest.raises(aiokili.NotFoundError, match=project):
                await kili.export_labels(project, tmp_path / "y.zip", "kili", with_assets=True)
            with pytest.raises(aiokili.NotFoundError):
                await kili.get_plugin_logs(project, f"{SECRET}-plugin")

    anyio.run(main)
    assert not list(tmp_path.iterdir())


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
    steps = q("query($w: ProjectWhere!) { data: projects(where: $w) { steps { id } } }", w=project)
    assert theirs.ids["Step"] in [s["id"] for s in steps[0]["steps"]]
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
