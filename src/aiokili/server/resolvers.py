"""Ariadne bindings: thin resolvers over the :class:`~aiokili.server.store.Store`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ariadne import (
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    make_executable_schema,
)
from graphql import GraphQLEnumType, GraphQLResolveInfo, GraphQLSchema

from .errors import ServerError
from .store import Row, Store

Info = GraphQLResolveInfo


def schema_path() -> Path:
    """``aiokili/schema.graphql``: the SDL shipped in the package (source of the client too)."""
    return Path(__file__).parents[1] / "schema.graphql"


def _store(info: Info) -> Store:
    store: Store = info.context["store"]
    return store


def _user(info: Info) -> Row:
    user: Row = info.context["user"]
    return user


def _page(kw: dict[str, Any]) -> tuple[int, int | None]:
    skip, first = kw.get("skip") or 0, kw.get("first")
    if skip < 0:
        raise ServerError(f"skip must be >= 0, got {skip}.")
    return skip, first


query = QueryType()
mutation = MutationType()
label_type = ObjectType("Label")
asset_type = ObjectType("Asset")
project_type = ObjectType("Project")
user_type = ObjectType("User")
api_key_type = ObjectType("ApiKey")


def _page_size(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise ValueError(f"PageSize must be an integer from 1 to 1000, got {value!r}")
    return value


page_size = ScalarType("PageSize", value_parser=_page_size)


def _page_size_literal(node: Any, _variables: Any = None) -> int:
    return _page_size(int(node.value))


page_size.set_literal_parser(_page_size_literal)
json_scalar = ScalarType("JSON")
json_string = ScalarType(
    "JSONString", serializer=lambda v: v if isinstance(v, str) else json.dumps(v)
)
date_time = ScalarType("DateTime", serializer=str, value_parser=str)


# ------------------------------------------------------------------ users & keys
@query.field("viewer")
def resolve_viewer(_: Any, info: Info) -> Row:
    return _user(info)


@query.field("users")
def resolve_users(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    user = _user(info)
    ok = (where.get("id") in (None, user["id"])) and (where.get("email") in (None, user["email"]))
    return [user] if ok else []


@query.field("countUsers")
def resolve_count_users(_: Any, info: Info, where: Row) -> int:
    return len(resolve_users(_, info, where))


@query.field("apiKeys")
def resolve_api_keys(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    keys = _store(info).api_keys(where.get("key"))
    skip, first = _page(kw)
    return keys[skip : None if first is None else skip + first]


@query.field("countApiKeys")
def resolve_count_api_keys(_: Any, info: Info, where: Row) -> int:
    return len(_store(info).api_keys(where.get("key")))


@api_key_type.field("user")
def resolve_api_key_user(key: Row, info: Info) -> Row | None:
    return _store(info).users_by_id([key["userId"]]).get(key["userId"])


@query.field("organizations")
def resolve_organizations(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    org = _store(info).organization(_user(info)["organizationId"])
    return [org] if org and where.get("id") in (None, org["id"]) else []


@query.field("countOrganizations")
def resolve_count_organizations(_: Any, info: Info, where: Row) -> int:
    return len(resolve_organizations(_, info, where))


@user_type.field("organization")
def resolve_user_organization(user: Row, info: Info) -> Row | None:
    return _store(info).organization(user["organizationId"])


# ------------------------------------------------------------------ projects
@query.field("projects")
def resolve_projects(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    return _store(info).projects(where, *_page(kw))


@query.field("countProjects")
def resolve_count_projects(_: Any, info: Info, where: Row) -> int:
    return _store(info).count_projects(where)


@project_type.field("author")
def resolve_project_author(project: Row, info: Info) -> Row | None:
    return _store(info).users_by_id([project["authorId"]]).get(project["authorId"])


@project_type.field("roles")
def resolve_project_roles(project: Row, info: Info) -> list[Row]:
    author = resolve_project_author(project, info)
    if author is None:
        return []
    return [{"id": f"{project['id']}-{author['id']}", "role": "ADMIN", "status": "ACTIVATED",
             "activated": True, "starred": False, "user": author}]  # fmt: skip


def _project_id(where: Row) -> str:
    if not where.get("id"):
        raise ServerError("where.id is required: give the project id.")
    return str(where["id"])


@mutation.field("createProject")
def resolve_create_project(_: Any, info: Info, data: Row) -> Row:
    if not (data.get("title") or "").strip():
        raise ServerError("title is required and cannot be empty.")
    return _store(info).create_project(data, _user(info)["id"])


@mutation.field("updatePropertiesInProject")
def resolve_update_project(_: Any, info: Info, data: Row, where: Row) -> Row:
    return _store(info).update_project(_project_id(where), data)


@mutation.field("deleteProjectAsynchronously")
def resolve_delete_project_async(_: Any, info: Info, where: Row) -> str:
    return str(_store(info).delete_project(_project_id(where))["id"])


@mutation.field("deleteProject")
def resolve_delete_project(_: Any, info: Info, where: Row) -> Row:
    return _store(info).delete_project(_project_id(where))


# ------------------------------------------------------------------ assets
@query.field("assets")
def resolve_assets(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    assets = _store(info).assets(where, *_page(kw))
    info.context["asset_page_ids"] = [a["id"] for a in assets]  # batch their labels
    return assets


@query.field("countAssets")
def resolve_count_assets(_: Any, info: Info, where: Row) -> int:
    return _store(info).count_assets(where)


@query.field("countAssetAnnotations")
def resolve_count_asset_annotations(_: Any, info: Info, where: Row) -> int:
    return 0


@query.field("filterExistingAssets")
def resolve_filter_existing(
    _: Any, info: Info, projectID: str, externalIDs: list[str]
) -> list[str]:
    return _store(info).existing_external_ids(projectID, externalIDs)


@query.field("createUploadBucketSignedUrls")
def resolve_signed_urls(_: Any, info: Info, filePaths: list[str] | None = None) -> list[str]:
    sign = info.context["sign_path"]
    return [sign(path) for path in filePaths or []]


@asset_type.field("labels")
def resolve_asset_labels(asset: Row, info: Info) -> list[Row]:
    cache: dict[str, list[Row]] | None = info.context.get("asset_labels")
    if cache is None or asset["id"] not in cache:
        # one query for every asset of the current page
        page_ids = info.context.get("asset_page_ids") or [asset["id"]]
        cache = _store(info).labels_of_assets(page_ids)
        for asset_id in page_ids:
            cache.setdefault(asset_id, [])
        info.context["asset_labels"] = cache
    return cache.get(asset["id"], [])


@asset_type.field("latestLabel")
def resolve_asset_latest_label(asset: Row, info: Info) -> Row | None:
    labels = resolve_asset_labels(asset, info)
    return labels[-1] if labels else None


@asset_type.field("latestLabels")
def resolve_asset_latest_labels(asset: Row, info: Info) -> list[Row]:
    latest = resolve_asset_latest_label(asset, info)
    return [latest] if latest else []


@asset_type.field("project")
def resolve_asset_project(asset: Row, info: Info) -> Row | None:
    projects = _store(info).projects({"id": asset["projectId"]}, 0, 1)
    return projects[0] if projects else None


def _array(data: Row, key: str, n: int) -> list[Any] | None:
    values = data.get(key)
    if values is not None and len(values) != n:
        raise ServerError(
            f"{key} has {len(values)} entries but there are {n} assets: "
            "give one entry per asset in every array."
        )
    return values


def _append_assets(info: Info, data: Row, where: Row) -> list[Row]:
    project_id = _project_id(where)
    main = data.get("contentArray") or data.get("jsonContentArray") or []
    n = len(main)
    contents = _array(data, "contentArray", n) or [""] * n
    ids = _array(data, "idArray", n) or [None] * n
    external = _array(data, "externalIDArray", n) or [None] * n
    metadata = _array(data, "jsonMetadataArray", n) or ["{}"] * n
    json_contents = _array(data, "jsonContentArray", n) or [""] * n
    honeypots = _array(data, "isHoneypotArray", n) or [False] * n
    if len(set(i for i in ids if i)) != len([i for i in ids if i]):
        raise ServerError("idArray has duplicates: each asset needs its own id.")
    assets = [
        {"id": ids[i] or uuid.uuid4().hex, "externalId": external[i] or uuid.uuid4().hex,
         "content": contents[i] or "", "jsonContent": json_contents[i] or "",
         "jsonMetadata": metadata[i] or "{}", "isHoneypot": bool(honeypots[i])}
        for i in range(n)
    ]  # fmt: skip
    return _store(info).append_assets(project_id, assets)


@mutation.field("appendManyAssets")
def resolve_append_many_assets(_: Any, info: Info, data: Row, where: Row) -> list[Row]:
    return _append_assets(info, data, where)


@mutation.field("appendManyAssetsAsynchronously")
def resolve_append_many_assets_async(_: Any, info: Info, data: Row, where: Row) -> Row:
    _append_assets(info, data, where)
    notification = {"id": uuid.uuid4().hex, "status": "SUCCESS", "createdAt": None, "url": None}
    info.context["notifications"][notification["id"]] = notification
    return notification


@query.field("notifications")
def resolve_notifications(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    known: dict[str, Row] = info.context["notifications"]
    if where.get("id"):
        return [known[where["id"]]] if where["id"] in known else []
    return list(known.values())


@query.field("countNotifications")
def resolve_count_notifications(_: Any, info: Info, where: Row) -> int:
    return len(resolve_notifications(_, info, where))


# ------------------------------------------------------------------ labels
@query.field("labels")
def resolve_labels(_: Any, info: Info, where: Row, **kw: Any) -> list[Row]:
    labels = _store(info).labels(where, *_page(kw))
    info.context["label_page_asset_ids"] = [lb["assetId"] for lb in labels]  # batch labelOf
    return labels


@query.field("countLabels")
def resolve_count_labels(_: Any, info: Info, where: Row) -> int:
    return _store(info).count_labels(where)


@label_type.field("author")
def resolve_label_author(label: Row, info: Info) -> Row | None:
    return _store(info).users_by_id([label["authorId"]]).get(label["authorId"])


@label_type.field("labelOf")
def resolve_label_of(label: Row, info: Info) -> Row | None:
    cache: dict[str, Row] | None = info.context.get("label_assets")
    if cache is None or label["assetId"] not in cache:
        # one query for the assets of every label of the current page
        page_ids = info.context.get("label_page_asset_ids") or [label["assetId"]]
        cache = _store(info).assets_by_id([*page_ids, label["assetId"]])
        info.context["label_assets"] = cache
    return cache.get(label["assetId"])


@label_type.field("isLatestLabelForUser")
def resolve_is_latest(label: Row, info: Info) -> bool:
    return True  # the local server keeps no history of edits: each label is its author's latest


@mutation.field("appendManyLabels")
def resolve_append_many_labels(_: Any, info: Info, data: Row, where: Row) -> list[Row]:
    viewer = _user(info)["id"]
    labels = [
        {"assetId": item["assetID"], "authorId": item.get("authorID") or viewer,
         "labelType": data["labelType"], "jsonResponse": item["jsonResponse"],
         "modelName": item.get("modelName"), "secondsToLabel": item.get("secondsToLabel")}
        for item in data["labelsData"]
    ]  # fmt: skip
    if not labels:
        return []
    allowed = where.get("idIn")
    if allowed is not None:
        outside = [lb["assetId"] for lb in labels if lb["assetId"] not in set(allowed)]
        if outside:
            raise ServerError(f"labelsData names assets outside where.idIn: {outside[:5]}.")
    project_id = (where.get("project") or {}).get("id")
    return _store(info).append_labels(project_id, labels, bool(data.get("overwrite")))


@mutation.field("createHoneypot")
def resolve_create_honeypot(_: Any, info: Info, data: Row, where: Row) -> Row:
    if not where.get("id"):
        raise ServerError("where.id is required: give the asset id.")
    label = {"assetId": where["id"], "authorId": _user(info)["id"], "labelType": "REVIEW",
             "jsonResponse": data["jsonResponse"]}  # fmt: skip
    return _store(info).append_labels(None, [label], False)[0]


@mutation.field("deleteLabels")
def resolve_delete_labels(_: Any, info: Info, ids: list[str]) -> list[str]:
    return _store(info).delete_labels(ids)


def _not_implemented(name: str) -> Any:
    def resolve(*_: Any, **__: Any) -> Any:
        raise ServerError(f"{name} is not implemented by the local server yet.", "NOT_IMPLEMENTED")

    return resolve


def _accept_extra_enum_parse_args(schema: GraphQLSchema) -> None:
    """Work around ariadne 1.1 + graphql-core >= 3.2.7 rejecting enum variables.

    Ariadne replaces ``parse_value`` of enum types with a one-argument function, while
    newer graphql-core calls it with an extra ``hide_suggestions`` argument.
    """
    for named in schema.type_map.values():
        if isinstance(named, GraphQLEnumType):
            original = named.parse_value

            def parse_value(value: Any, *_extra: Any, _original: Any = original) -> Any:
                return _original(value)

            named.parse_value = parse_value  # type: ignore[method-assign,assignment]


def build_schema() -> GraphQLSchema:
    """The executable schema: schema.graphql with these resolvers."""
    schema = make_executable_schema(
        schema_path().read_text(),
        query, mutation, label_type, asset_type, project_type, user_type, api_key_type,
        page_size, json_scalar, json_string, date_time,
    )  # fmt: skip
    _accept_extra_enum_parse_args(schema)
    mutation_fields = schema.mutation_type.fields if schema.mutation_type else {}
    for name, field in mutation_fields.items():
        if field.resolve is None:
            field.resolve = _not_implemented(name)
    return schema
