"""GraphQL resolvers of plugins and webhooks: creation, upload URLs, runners, activation on
projects, deletion, build errors and run logs.

The resolvers only write rows; building (status ``DEPLOYING`` -> ``ACTIVE`` / ``FAILED``)
and running plugins on new labels is the work of :mod:`aiokili.server.plugin_runtime`,
a service started by the app's lifespan, so no mutation ever waits for a build or a run.
"""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo as Info

from ...plugins.requirements import refused_requirements
from ..context import context
from ..errors import ServerError
from ..store.db import in_thread
from ..store.plugins import DEPLOYING, WEBHOOK_DEFAULT_HANDLERS, LogEntry, PluginRow

query = QueryType()
mutation = MutationType()
plugin_type = ObjectType("Plugin")
log_type = ObjectType("PluginLog")


def _name(data: dict[str, Any], field: str = "pluginName") -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ServerError(f"{field} is required: give the plugin's name.")
    return value.strip()


def _page(data: dict[str, Any]) -> tuple[str | None, int, int]:
    limit, skip = data.get("limit"), data.get("skip")
    limit = 100 if limit is None else limit
    skip = 0 if skip is None else skip
    if limit < 0 or skip < 0:
        raise ServerError(f"limit and skip must be >= 0, got limit={limit}, skip={skip}.")
    since = data.get("createdAt")
    return (str(since).replace("+00:00Z", "Z") if since else None), limit, skip


@plugin_type.field("projectIds")
def resolve_plugin_projects(plugin: PluginRow, _: Info) -> list[str]:
    return plugin.project_ids


@log_type.field("metadata")
def resolve_log_metadata(entry: LogEntry, _: Info) -> dict[str, Any] | None:
    if entry.asset_id is None and entry.label_id is None:
        return None
    return {"assetId": entry.asset_id, "labelId": entry.label_id}


@log_type.field("pluginName")
def resolve_log_plugin(entry: LogEntry, _: Info) -> str:
    return entry.plugin_name


@query.field("listPlugins")
async def resolve_list_plugins(_: Any, info: Info) -> list[PluginRow]:
    ctx = context(info)
    return await in_thread(ctx.store.plugins.of_organization, ctx.user.organization_id)


@query.field("getPluginRunnerStatus")
async def resolve_plugin_status(_: Any, info: Info, name: str) -> str:
    ctx = context(info)
    return (await in_thread(ctx.store.plugins.get, name, ctx.user.organization_id)).status


@query.field("getPluginBuildErrors")
async def resolve_build_errors(_: Any, info: Info, data: dict[str, Any]) -> list[LogEntry]:
    ctx = context(info)
    name = _name(data)
    await in_thread(ctx.store.plugins.get, name, ctx.user.organization_id)
    since, limit, skip = _page(data)
    return await in_thread(ctx.store.plugins.logs, name, "build", None, since, limit, skip)


@query.field("getPluginLogs")
async def resolve_plugin_logs(_: Any, info: Info, data: dict[str, Any]) -> list[LogEntry]:
    ctx = context(info)
    name = _name(data)
    await in_thread(ctx.store.plugins.get, name, ctx.user.organization_id)
    await in_thread(ctx.store.projects.require, data["projectId"])
    since, limit, skip = _page(data)
    return await in_thread(
        ctx.store.plugins.logs, name, "run", data["projectId"], since, limit, skip
    )


def _archive_url(info: Info, name: str) -> tuple[str, str]:
    """A PUT URL for the plugin's zip and its object key (new for every upload)."""
    ctx = context(info)
    key = f"uploads/{secrets.token_hex(8)}/plugins/{name}/archive.zip"
    return ctx.signer.url(ctx.base_url, key, owner=ctx.user.organization_id), key


@mutation.field("createPlugin")
async def resolve_create_plugin(_: Any, info: Info, data: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(data)
    url, key = _archive_url(info, name)
    await ctx.store.db.run_write(ctx.store.plugins.create, name, ctx.user.organization_id, key)
    return url


@mutation.field("generateUpdateUrl")
async def resolve_generate_update_url(_: Any, info: Info, data: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(data)
    url, key = _archive_url(info, name)
    await ctx.store.db.run_write(
        ctx.store.plugins.set_archive_key, name, ctx.user.organization_id, key
    )
    return url


def _handlers(data: dict[str, Any], default: list[str] | None) -> list[str] | None:
    handlers = data.get("handlerTypes")
    return default if handlers is None else list(dict.fromkeys(handlers))


def _refused_requirements(archive: Path) -> list[str]:
    """What the uploaded archive's ``requirements.txt`` may not say (none: no archive yet,
    or nothing refused; a bad zip is the build's to report)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            text = zf.read("requirements.txt").decode(errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    return refused_requirements(text)


async def _deploy(info: Info, data: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(data)
    plugin = await in_thread(ctx.store.plugins.get, name, ctx.user.organization_id)
    archive = ctx.store.files.blob(plugin.archive_key or "")
    if refused := await in_thread(_refused_requirements, archive):
        raise ServerError(f'Plugin "{name}" not deployed: ' + " ".join(refused))
    handlers = _handlers(data, ["onSubmit", "onReview"]) or []
    matcher = sorted(set(data.get("eventMatcher") or []))
    await ctx.store.db.run_write(
        ctx.store.plugins.start_deploy, name, ctx.user.organization_id, handlers, matcher
    )
    return DEPLOYING


@mutation.field("createPluginRunner")
async def resolve_create_runner(_: Any, info: Info, data: dict[str, Any]) -> str:
    return await _deploy(info, data)


@mutation.field("updatePluginRunner")
async def resolve_update_runner(_: Any, info: Info, data: dict[str, Any]) -> str:
    return await _deploy(info, data)


def _webhook_url(data: dict[str, Any]) -> str:
    url = data.get("webhookUrl")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ServerError(f"webhookUrl must be an http(s) URL, got {url!r}.")
    return url


@mutation.field("createWebhook")
async def resolve_create_webhook(_: Any, info: Info, data: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(data)
    webhook = (
        _webhook_url(data),
        data.get("header"),
        _handlers(data, WEBHOOK_DEFAULT_HANDLERS) or [],
        sorted(set(data.get("eventMatcher") or [])),
    )
    await ctx.store.db.run_write(
        ctx.store.plugins.create, name, ctx.user.organization_id, None, webhook
    )
    return f"Webhook {name} created"


@mutation.field("updateWebhook")
async def resolve_update_webhook(_: Any, info: Info, data: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(data)
    matcher = data.get("eventMatcher")
    await ctx.store.db.run_write(
        ctx.store.plugins.update_webhook,
        name,
        ctx.user.organization_id,
        _webhook_url(data),
        data.get("header"),
        _handlers(data, None),
        None if matcher is None else sorted(set(matcher)),
    )
    return f"Webhook {name} updated"


async def _set_active(info: Info, where: dict[str, Any], *, on: bool) -> str:
    ctx = context(info)
    name = _name(where)
    await ctx.store.db.run_write(
        ctx.store.plugins.activate, name, where["projectId"], ctx.user.organization_id, on=on
    )
    return f"Plugin {name} {'activated' if on else 'deactivated'} on project {where['projectId']}"


@mutation.field("activatePluginOnProject")
async def resolve_activate(_: Any, info: Info, where: dict[str, Any]) -> str:
    return await _set_active(info, where, on=True)


@mutation.field("deactivatePluginOnProject")
async def resolve_deactivate(_: Any, info: Info, where: dict[str, Any]) -> str:
    return await _set_active(info, where, on=False)


@mutation.field("deletePlugin")
async def resolve_delete_plugin(_: Any, info: Info, where: dict[str, Any]) -> str:
    ctx = context(info)
    name = _name(where)
    await ctx.store.db.run_write(ctx.store.plugins.delete, name, ctx.user.organization_id)
    return f"Plugin {name} deleted"


bindables = [query, mutation, plugin_type, log_type]
